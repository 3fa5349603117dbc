import assert from "node:assert/strict";
import { errorCode } from "../errors.ts";
import { createTinyModel, type TinyPreset } from "../model/tiny.ts";
import { loadTokenizer, type ModelTokenizer } from "../model/tokenizer.ts";
import type { ChatMessage } from "../model/tokenizer.ts";
import { parseChatData } from "./chat_data.ts";
import { tokenizeConversation, tokenizeDataset } from "./chat_tokenize.ts";
import { IGNORE_INDEX } from "./loss_graph.ts";

const tokenizers = new Map<TinyPreset, ModelTokenizer>();
async function tokenizer(preset: TinyPreset): Promise<ModelTokenizer> {
  if (!tokenizers.has(preset)) {
    const dir = await Deno.makeTempDir({ prefix: "dramatis_tok_" });
    await createTinyModel(dir, { preset, seed: 0 });
    tokenizers.set(preset, await loadTokenizer(dir));
    await Deno.remove(dir, { recursive: true });
  }
  return tokenizers.get(preset)!;
}

const CONVERSATION: ChatMessage[] = [
  { role: "system", content: "You are a terse pirate." },
  { role: "user", content: "Where is the treasure?" },
  { role: "assistant", content: "Under the old palm, matey." },
  { role: "user", content: "How deep?" },
  { role: "assistant", content: "Three paces down." },
];

/**
 * The trained text of each reply, written out by hand for each family's template (the oracle the
 * mask is checked against): the reply and the template's end-of-turn token (not the template text
 * after it, which the model never generates).
 */
const REPLY_TEXT: Record<string, (content: string) => string> = {
  "tiny-llama": (c) => `${c.trim()}<|eot_id|>`,
  "tiny-qwen3": (c) => `${c}<|im_end|>`,
  "tiny-mistral": (c) => ` ${c}</s>`,
};

for (const preset of ["tiny-llama", "tiny-qwen3", "tiny-mistral"] as const) {
  Deno.test(`tokenizeConversation() masks every non-assistant token (${preset}, token by token)`, async () => {
    const tok = await tokenizer(preset);
    const ex = tokenizeConversation(tok, CONVERSATION);
    const full = tok.applyChatTemplate(CONVERSATION);
    // Same ids as tokenizing the whole rendering at once.
    assert.deepEqual(ex.inputIds, tok.encode(full, { addSpecialTokens: false }));
    // Character regions of the replies in the rendered text, found from the end of the prompt.
    const regions: [number, number][] = [];
    let from = 0;
    for (const m of CONVERSATION) {
      if (m.role !== "assistant") continue;
      const text = REPLY_TEXT[preset](m.content);
      const start = full.indexOf(text, from);
      assert.ok(start >= 0, `reply "${m.content}" not found in the rendering`);
      regions.push([start, start + text.length]);
      from = start + text.length;
    }
    let pos = 0;
    let trained = 0;
    ex.inputIds.forEach((id, k) => {
      const piece = tok.decode([id]);
      const [s, e] = [pos, pos + piece.length];
      pos = e;
      const inside = regions.some(([a, b]) => s >= a && e <= b);
      const outside = regions.every(([a, b]) => e <= a || s >= b);
      assert.ok(
        inside || outside,
        `token ${k} ${JSON.stringify(piece)} straddles a reply boundary`,
      );
      assert.equal(ex.labels[k], inside ? id : IGNORE_INDEX, `token ${k} ${JSON.stringify(piece)}`);
      if (inside) trained++;
    });
    assert.equal(pos, full.length);
    assert.ok(trained > 0);
  });
}

Deno.test("tokenizeDataset() rejects a conversation over maxLength with file and line, or skips it", async () => {
  const tok = await tokenizer("tiny-qwen3");
  const text = [
    JSON.stringify({
      messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello" }],
    }),
    JSON.stringify({
      messages: [{ role: "user", content: "long ".repeat(80) }, {
        role: "assistant",
        content: "ok",
      }],
    }),
  ].join("\n");
  const { conversations } = parseChatData(text, "chat.jsonl");
  assert.throws(
    () => tokenizeDataset(tok, conversations, { maxLength: 40 }),
    (e: Error) =>
      errorCode(e) === "E_DATA" &&
      /^chat\.jsonl:2: record 1: the conversation is \d+ tokens, over maxLength 40; raise maxLength/
        .test(
          e.message,
        ),
  );
  const r = tokenizeDataset(tok, conversations, { maxLength: 40, skipInvalid: true });
  assert.equal(r.examples.length, 1);
  assert.equal(r.skipped.length, 1);
  assert.equal(r.skipped[0].source.line, 2);
});
