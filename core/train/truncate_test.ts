import assert from "node:assert/strict";
import { parseChatData } from "./chat_data.ts";
import type { ChatTokenizerLike } from "./chat_tokenize.ts";
import { tokenizeTruncating } from "./truncate.ts";
import { loadTokenizer } from "../model/tokenizer.ts";
import { createTinyModel } from "../model/tiny.ts";

async function tokenizer(): Promise<ChatTokenizerLike> {
  const dir = await Deno.makeTempDir();
  await createTinyModel(dir, { preset: "tiny-llama" });
  const tok = await loadTokenizer(dir);
  await Deno.remove(dir, { recursive: true });
  return tok;
}

const rec = (system: string, user: string, reply: string) =>
  JSON.stringify({
    messages: [
      { role: "system", content: system },
      { role: "user", content: user },
      { role: "assistant", content: reply },
    ],
  });

Deno.test("tokenizeTruncating() keeps the last max_length tokens and counts each cut", async () => {
  const tok = await tokenizer();
  const text = [rec("S", "Hi", "Hello"), rec("profile ".repeat(200), "Hi", "Hello there")].join(
    "\n",
  );
  const { conversations } = parseChatData(text, "t.jsonl");
  const whole = tokenizeTruncating(tok, conversations, { maxLength: 100000 });
  const long = whole.examples[1];
  assert.ok(long.inputIds.length > 60);
  assert.throws(
    () => tokenizeTruncating(tok, conversations, { maxLength: 60 }),
    /t\.jsonl:2: record 1: the conversation is \d+ tokens, over maxLength 60/,
  );
  const r = tokenizeTruncating(tok, conversations, { maxLength: 60, truncate: true });
  assert.equal(r.examples.length, 2);
  assert.deepEqual(r.examples[0], whole.examples[0]);
  assert.deepEqual(r.examples[1].inputIds, long.inputIds.slice(-60));
  assert.deepEqual(r.examples[1].labels, long.labels.slice(-60));
  assert.deepEqual(r.truncated, [{
    source: { file: "t.jsonl", line: 2, record: 1 },
    tokens: long.inputIds.length,
  }]);
});

Deno.test("tokenizeTruncating() keeps part of the final reply even at a tiny limit", async () => {
  const tok = await tokenizer();
  const { conversations } = parseChatData(rec("S", "Hi", "Hello"), "t.jsonl");
  const n = tokenizeTruncating(tok, conversations, { maxLength: 100000 }).examples[0].labels
    .filter((l) => l !== -100).length;
  // Fewer tokens than the reply's own labelled span still hold part of the reply.
  const r = tokenizeTruncating(tok, conversations, { maxLength: 2, truncate: true });
  assert.ok(n >= 2 && r.examples.length === 1);
  assert.ok(r.examples[0].labels.some((l) => l !== -100));
});
