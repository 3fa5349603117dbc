import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "./atomic.ts";

Deno.test("writeFileAtomic() creates parents, replaces content and leaves no temp files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "a", "b", "out.txt");
    await writeFileAtomic(path, "one");
    await writeFileAtomic(path, new TextEncoder().encode("two"));
    assert.equal(await Deno.readTextFile(path), "two");
    const names = [];
    for await (const e of Deno.readDir(join(dir, "a", "b"))) names.push(e.name);
    assert.deepEqual(names, ["out.txt"]);
    await writeJsonAtomic(path, { x: [1] });
    assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), { x: [1] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
