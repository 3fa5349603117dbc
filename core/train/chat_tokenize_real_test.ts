import assert from "node:assert/strict";
import { REAL_TOKENIZER_PRESETS, type RealTokenizerPreset } from "../model/real_presets.ts";
import { realTokenizer } from "../model/testing/real_models.ts";
import type { ChatMessage } from "../model/tokenizer.ts";
import { tokenizeConversation } from "./chat_tokenize.ts";
import { IGNORE_INDEX } from "./loss_graph.ts";

const CONVERSATION: ChatMessage[] = [
  { role: "system", content: "You are a terse pirate." },
  { role: "user", content: "Where is the treasure?" },
  { role: "assistant", content: "Under the old palm, matey." },
  { role: "user", content: "How deep?\nTell me in feet." },
  { role: "assistant", content: "Hello, 85 feet. Ünïcode ✓ too." },
];

/**
 * What the assistant produced for each reply, spelled out by hand from each family's published
 * prompt format (the oracle of the mask): the reply and its end-of-turn token. Llama-2 runs are
 * compared as SentencePiece pieces (▁ = space), the others as decoded text.
 */
const REPLIES: Record<RealTokenizerPreset, string[]> = {
  "tiny-llama2-chat": [" Under the old palm, matey. </s>", " Hello, 85 feet. Ünïcode ✓ too. </s>"],
  "tiny-llama31": [
    "Under the old palm, matey.<|eot_id|>",
    "Hello, 85 feet. Ünïcode ✓ too.<|eot_id|>",
  ],
  // Qwen3's template renders the last reply with an empty reasoning block, history without.
  "tiny-qwen3-real": [
    "Under the old palm, matey.<|im_end|>",
    "<think>\n\n</think>\n\nHello, 85 feet. Ünïcode ✓ too.<|im_end|>",
  ],
};

/** Token pieces as text: SentencePiece ▁ is a space, byte-fallback pieces are bytes. */
function piecesText(tok: Awaited<ReturnType<typeof realTokenizer>>, ids: number[]): string {
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (const id of ids) {
    const t = tok.idToToken(id)!;
    const m = /^<0x([0-9A-F]{2})>$/.exec(t);
    if (m) bytes.push(parseInt(m[1], 16));
    else bytes.push(...enc.encode(t.replaceAll("\u2581", " ")));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

for (const preset of REAL_TOKENIZER_PRESETS) {
  Deno.test(`tokenizeConversation() ids equal apply_chat_template(tokenize) and the mask is the replies (${preset})`, async () => {
    const tok = await realTokenizer(preset);
    const ex = tokenizeConversation(tok, CONVERSATION);
    // The oracle: transformers.js renders and tokenizes the conversation itself.
    const oracle = tok.raw.apply_chat_template(CONVERSATION, {
      tokenize: true,
      return_tensor: false,
      return_dict: false,
    }) as unknown as number[];
    assert.deepEqual(ex.inputIds, oracle);
    // Contiguous runs of trained positions, one per reply.
    const runs: [number, number][] = [];
    ex.labels.forEach((l, k) => {
      if (l === IGNORE_INDEX) return;
      assert.equal(l, ex.inputIds[k]);
      const last = runs[runs.length - 1];
      if (last && last[1] === k) last[1] = k + 1;
      else runs.push([k, k + 1]);
    });
    assert.equal(runs.length, 2, `runs: ${JSON.stringify(runs)}`);
    runs.forEach(([a, b], r) => {
      const ids = ex.inputIds.slice(a, b);
      const text = preset === "tiny-llama2-chat" ? piecesText(tok, ids) : tok.decode(ids);
      assert.equal(text, REPLIES[preset][r]);
      // What precedes a reply is exactly the prompt inference sends for it.
      const turn = CONVERSATION.findIndex((m, i) =>
        m.role === "assistant" && CONVERSATION.slice(0, i).filter((x) => x.role === "assistant")
            .length === r
      );
      const prompt = tok.encodeChat(CONVERSATION.slice(0, turn), { addGenerationPrompt: true });
      assert.deepEqual(ex.inputIds.slice(0, a), prompt);
    });
    if (preset === "tiny-llama2-chat") {
      // The bug this replaces: no lone "▁" token opens a reply.
      const space = tok.tokenToId("\u2581");
      for (const [a] of runs) assert.notEqual(ex.inputIds[a], space);
    }
  });
}
