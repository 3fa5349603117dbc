import assert from "node:assert/strict";
import { join } from "node:path";
import { realTokenizerModelDir } from "../../model/testing/real_models.ts";

const MAIN = new URL("../../../main.ts", import.meta.url).pathname;

Deno.test("data inspect --json shows each example's tokens with the loss mask on the replies", async () => {
  const model = await realTokenizerModelDir({ preset: "tiny-llama31" });
  const root = await Deno.makeTempDir({ prefix: "dramatis_inspect_" });
  try {
    const data = join(root, "d.jsonl");
    await Deno.writeTextFile(
      data,
      [
        {
          messages: [{ role: "user", content: "Hi" }, {
            role: "assistant",
            content: "Hello there.",
          }],
        },
        { conversations: [{ from: "human", value: "2+2?" }, { from: "gpt", value: "4" }] },
        { messages: [{ role: "assistant", content: "no user turn" }] },
      ].map((r) => JSON.stringify(r)).join("\n") + "\n",
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "data", "inspect", "--model", model, "--data", data, "--json"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const r = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(r.examples.length, 2);
    assert.equal(r.skipped.length, 1);
    assert.deepEqual(r.examples[0].trainedText, ["Hello there.<|eot_id|>"]);
    assert.deepEqual(r.examples[1].trainedText, ["4<|eot_id|>"]);
    const first = r.examples[0].tokens as { token: string; trained: boolean }[];
    assert.equal(first[0].token, "<|begin_of_text|>");
    assert.equal(first[0].trained, false);
    assert.equal(r.examples[0].trainedTokens, first.filter((t) => t.trained).length);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
