import assert from "node:assert/strict";
import { join } from "node:path";
import { errorCode } from "../errors.ts";
import { pathExists, readOptionalJson } from "./fs.ts";

Deno.test("readOptionalJson: no file is undefined, bad JSON a coded error naming the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dramatis_fs_" });
  try {
    const path = join(dir, "settings.json");
    assert.equal(await readOptionalJson(path, "E_WEIGHTS"), undefined);
    assert.equal(await pathExists(path), false);
    await Deno.writeTextFile(path, '{"bits": 4}');
    assert.deepEqual(await readOptionalJson(path, "E_WEIGHTS"), { bits: 4 });
    await Deno.writeTextFile(path, '{"bits": ');
    await assert.rejects(
      () => readOptionalJson(path, "E_TOKENIZER"),
      (e: Error) =>
        errorCode(e) === "E_TOKENIZER" && e.message.startsWith(`${path} is not valid JSON`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
