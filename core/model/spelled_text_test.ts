import assert from "node:assert/strict";
import { createRealTokenizerModel, REAL_TOKENIZER_PRESETS } from "./real_presets.ts";
import { type Spell, SpelledText } from "./spelled_text.ts";
import { loadTokenizer } from "./tokenizer.ts";
import { Prng } from "../util/prng.ts";

/** Pushes every token and checks the text after each against spelling the whole prefix. */
function checkAgainstWhole(spell: Spell, tokens: readonly number[], window: number) {
  const s = new SpelledText(spell, window);
  tokens.forEach((t, i) => {
    assert.equal(s.push(t), spell(tokens.slice(0, i + 1)), `after token ${i} (${t})`);
  });
}

Deno.test("SpelledText gives the decode of every prefix with the real tokenizers", async () => {
  const root = await Deno.makeTempDir({ prefix: "dramatis_spelled_" });
  try {
    for (const preset of REAL_TOKENIZER_PRESETS) {
      const dir = `${root}/${preset}`;
      await createRealTokenizerModel(dir, { preset, hiddenSize: 8, numLayers: 1 });
      const tok = await loadTokenizer(dir);
      const document: Spell = (ids) => tok.decode(ids);
      // As the engine spells a continuation: behind an anchor token that is then cut off.
      const [anchor] = tok.encode("a", { addSpecialTokens: false }).slice(-1);
      const anchorText = tok.decode([anchor]);
      const continuation: Spell = (ids) => tok.decode([anchor, ...ids]).slice(anchorText.length);
      const r = new Prng(7);
      const vocab = tok.raw.get_vocab().size as number;
      // Words (whole characters, several scripts), byte pieces that split characters, and any
      // token at all, mixed.
      const words = tok.encode("Hello, wörld — 你好世界 🙂 naïve café. ¿Qué?  \n\tok", {
        addSpecialTokens: false,
      });
      const tokens = Array.from({ length: 240 }, (_, i) => {
        const k = r.int(3);
        if (k === 0) return words[i % words.length];
        if (k === 1) return r.int(Math.min(vocab, 300));
        return r.int(vocab);
      });
      for (const window of [1, 4, 16]) {
        checkAgainstWhole(document, tokens, window);
        checkAgainstWhole(continuation, tokens, window);
      }
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("SpelledText never settles text that a later token would change", () => {
  // A decoder that rewrites across token boundaries (" ." → ".", as cleanup of tokenization
  // spaces does) and joins split characters: cuts there must be refused.
  // "" is a special token that decoding skips: a cut before a run of them must not settle a
  // trailing space that a later "." would join.
  const pieces = ["a", " ", ".", "\uD83D", "\uDE42", "b", "c", "", "", ""];
  const spell: Spell = (ids) =>
    ids.map((i) => pieces[i]).join("").replaceAll(" .", ".").replace(/\uD83D(?!\uDE42)/g, "\uFFFD");
  const r = new Prng(3);
  const tokens = Array.from({ length: 2000 }, () => r.int(pieces.length));
  for (const window of [1, 2, 3, 8]) checkAgainstWhole(spell, tokens, window);
  assert.throws(() => new SpelledText(spell, 0), /window/);
});
