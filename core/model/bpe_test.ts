import assert from "node:assert/strict";
import { PreTrainedTokenizer } from "@huggingface/transformers";
import {
  buildTokenizerJson,
  byteToUnicode,
  preTokenize,
  readCorpus,
  trainByteLevelBpe,
} from "./bpe.ts";

Deno.test("byteToUnicode() maps bytes to 256 distinct printable characters (GPT-2 table)", () => {
  const t = byteToUnicode();
  assert.equal(new Set(t).size, 256);
  assert.equal(t[65], "A");
  assert.equal(t[32], "Ġ"); // U+0120: the 33rd non-printable byte
  assert.equal(t[10], "Ċ"); // U+010A
  assert.equal(t[0], "\u0100");
  assert.equal(t[0xad], "\u0143"); // the soft hyphen is remapped
});

Deno.test("preTokenize() splits like the ByteLevel pre-tokenizer", () => {
  assert.deepEqual(preTokenize("Hi there, it's 42!"), [
    "Hi",
    "Ġthere",
    ",",
    "Ġit",
    "'s",
    "Ġ42",
    "!",
  ]);
  assert.deepEqual(preTokenize("é"), ["Ã©"]); // UTF-8 bytes c3 a9
});

Deno.test("trainByteLevelBpe() merges the most frequent pair, ties lexicographically", () => {
  // "aaab" and " aab": (a,a) occurs 3 times; after that every pair occurs once, and ties go
  // to the smallest (left, right) strings: ("a","b"), then ("aa","ab").
  const bpe = trainByteLevelBpe(["aaab aab"], { vocabSize: 259, minFrequency: 1 });
  assert.deepEqual(bpe.merges, [["a", "a"], ["a", "b"], ["aa", "ab"]]);
  assert.deepEqual(bpe.tokens.slice(256), ["aa", "ab", "aaab"]);
  const strict = trainByteLevelBpe(["aaab aab"], { vocabSize: 300 });
  assert.deepEqual(
    strict.merges,
    [["a", "a"]],
    "minFrequency 2 stops after the only repeated pair",
  );
});

Deno.test("trainByteLevelBpe() is deterministic and independent of text order", () => {
  const texts = ["the cat sat on the mat", "a hat and a bat", "that cat, that hat"];
  const a = trainByteLevelBpe(texts, { vocabSize: 280 });
  const b = trainByteLevelBpe(texts.slice().reverse(), { vocabSize: 280 });
  assert.deepEqual(a, b);
  assert.throws(() => trainByteLevelBpe(texts, { vocabSize: 100 }), RangeError);
});

Deno.test("buildTokenizerJson() output encodes in transformers.js as the merges dictate", () => {
  const bpe = trainByteLevelBpe(["aaab aab"], { vocabSize: 259, minFrequency: 1 });
  const json = buildTokenizerJson(bpe, { specialTokens: ["<|x|>", "<s>"], prependToken: "<s>" });
  const tok = new PreTrainedTokenizer(json, { clean_up_tokenization_spaces: false });
  // "aaab" → one token (258); " aab" → Ġ (byte 32), "aa" (256), "b" (byte 98).
  assert.deepEqual(tok.encode("aaab aab", { add_special_tokens: false }), [258, 32, 256, 98]);
  assert.deepEqual(tok.encode("aaab<|x|>"), [260, 258, 259]);
  assert.equal(tok.decode([260, 258, 259, 32, 256, 98]), "<s>aaab<|x|> aab");
  assert.equal(tok.decode([260, 258, 259], { skip_special_tokens: true }), "aaab");
});

Deno.test("trainByteLevelBpe() on the bundled corpus round-trips any text", async () => {
  const texts = await readCorpus();
  assert.ok(texts.join("").length > 20_000, "the corpus has a few tens of KB");
  const bpe = trainByteLevelBpe(texts, { vocabSize: 600 });
  assert.equal(bpe.tokens.length, 600);
  assert.ok(bpe.tokens.includes("Ġthe"));
  const tok = new PreTrainedTokenizer(buildTokenizerJson(bpe), {});
  const text = "Where is the station? Ünïcödé, 漢字 and 🙂 too.\n\tTabs  and  spaces.";
  const ids = tok.encode(text);
  assert.ok(ids.length < new TextEncoder().encode(text).length, "merges shorten the sequence");
  assert.equal(tok.decode(ids, { clean_up_tokenization_spaces: false }), text);
});
