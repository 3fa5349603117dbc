/**
 * A small byte-level BPE trainer that writes a Hugging Face `tokenizer.json` (BPE model with
 * vocab and merges, ByteLevel pre-tokenizer and decoder, added special tokens). Training is
 * deterministic: ties between equally frequent pairs go to the lexicographically smaller pair.
 * Tiny test models use it with the English corpus in `datasets/corpus/`.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/**
 * The GPT-2 byte → printable-character table: printable Latin-1 bytes map to themselves, the
 * other bytes to code points from 256 upward in byte order.
 *
 * @example
 * ```ts
 * import { byteToUnicode } from "./bpe.ts";
 * byteToUnicode()[32]; // "Ġ" (space)
 * ```
 */
export function byteToUnicode(): string[] {
  const table = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae);
    table[b] = String.fromCodePoint(printable ? b : 256 + extra++);
  }
  return table;
}

/** The pre-tokenizer split of the ByteLevel pre-tokenizer (GPT-2 pattern). */
const SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * Splits text the way the ByteLevel pre-tokenizer does and maps each piece's UTF-8 bytes to the
 * printable byte alphabet.
 *
 * @example
 * ```ts
 * import { preTokenize } from "./bpe.ts";
 * preTokenize("Hi there"); // ["Hi", "Ġthere"]
 * ```
 */
export function preTokenize(text: string): string[] {
  const table = byteToUnicode();
  const enc = new TextEncoder();
  return (text.match(SPLIT) ?? []).map((piece) =>
    Array.from(enc.encode(piece), (b) => table[b]).join("")
  );
}

/** A trained byte-level BPE: tokens by id and the ordered merges. */
export interface TrainedBpe {
  /** Token strings indexed by id; ids 0..255 are the byte alphabet in byte order. */
  tokens: string[];
  /** Merges in rank order. */
  merges: [string, string][];
}

/** Options of {@link trainByteLevelBpe}. */
export interface BpeTrainOptions {
  /** Total BPE tokens (256 byte tokens + merges), at least 256. */
  vocabSize: number;
  /** Stop early when the best pair is rarer than this. Default 2. */
  minFrequency?: number;
}

/**
 * Trains a byte-level BPE on texts. Returns fewer than `vocabSize` tokens only when no pair
 * reaches `minFrequency` any more.
 *
 * @example
 * ```ts
 * import { trainByteLevelBpe } from "./bpe.ts";
 * const bpe = trainByteLevelBpe(["the cat sat on the mat"], { vocabSize: 260 });
 * bpe.merges[0]; // ["a", "t"] (the most frequent pair)
 * ```
 */
export function trainByteLevelBpe(texts: string[], options: BpeTrainOptions): TrainedBpe {
  const { vocabSize, minFrequency = 2 } = options;
  if (!Number.isInteger(vocabSize) || vocabSize < 256) {
    throw new RangeError(`vocabSize is ${vocabSize}; a byte-level BPE needs a whole number >= 256`);
  }
  const tokens = byteToUnicode();
  const idOf = new Map(tokens.map((t, i) => [t, i]));
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const piece of preTokenize(text)) counts.set(piece, (counts.get(piece) ?? 0) + 1);
  }
  // Sorted word types keep the whole run independent of Map insertion order.
  const words = [...counts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((
    [w, c],
  ) => ({ syms: Array.from(w, (ch) => idOf.get(ch)!), count: c }));
  const merges: [string, string][] = [];
  const key = (a: number, b: number) => a * 65536 + b;

  while (tokens.length < vocabSize) {
    const pairs = new Map<number, number>();
    for (const w of words) {
      const s = w.syms;
      for (let i = 0; i + 1 < s.length; i++) {
        const k = key(s[i], s[i + 1]);
        pairs.set(k, (pairs.get(k) ?? 0) + w.count);
      }
    }
    let best = -1, bestCount = 0;
    for (const [k, c] of pairs) {
      if (c > bestCount || (c === bestCount && lessPair(k, best, tokens))) {
        best = k;
        bestCount = c;
      }
    }
    if (best < 0 || bestCount < minFrequency) break;
    const a = Math.floor(best / 65536), b = best % 65536;
    const merged = tokens[a] + tokens[b];
    let id = idOf.get(merged);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(merged);
      idOf.set(merged, id);
    }
    merges.push([tokens[a], tokens[b]]);
    for (const w of words) {
      const s = w.syms;
      if (s.length < 2) continue;
      const out: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(id);
          i++;
        } else out.push(s[i]);
      }
      w.syms = out;
    }
  }
  return { tokens, merges };
}

function lessPair(k: number, other: number, tokens: string[]): boolean {
  if (other < 0) return true;
  const a1 = tokens[Math.floor(k / 65536)], b1 = tokens[k % 65536];
  const a2 = tokens[Math.floor(other / 65536)], b2 = tokens[other % 65536];
  return a1 < a2 || (a1 === a2 && b1 < b2);
}

/** Options of {@link buildTokenizerJson}. */
export interface TokenizerJsonOptions {
  /** Special tokens appended after the BPE tokens, in id order. */
  specialTokens?: string[];
  /** A special token prepended when encoding with special tokens (e.g. a BOS token). */
  prependToken?: string;
}

/**
 * Builds a Hugging Face `tokenizer.json` object from a trained BPE. Special tokens get the ids
 * after the BPE tokens and are listed in `added_tokens`.
 *
 * @example
 * ```ts
 * import { buildTokenizerJson, trainByteLevelBpe } from "./bpe.ts";
 * const bpe = trainByteLevelBpe(["hello hello world"], { vocabSize: 262 });
 * const json = buildTokenizerJson(bpe, { specialTokens: ["<|endoftext|>"] });
 * await Deno.writeTextFile("/tmp/tokenizer.json", JSON.stringify(json));
 * ```
 */
export function buildTokenizerJson(
  bpe: TrainedBpe,
  options: TokenizerJsonOptions = {},
): Record<string, unknown> {
  const specials = options.specialTokens ?? [];
  const vocab: Record<string, number> = {};
  bpe.tokens.forEach((t, i) => (vocab[t] = i));
  const added = specials.map((content, i) => {
    if (content in vocab) {
      throw new RangeError(`special token ${JSON.stringify(content)} collides with a BPE token`);
    }
    return {
      id: bpe.tokens.length + i,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    };
  });
  const pre = options.prependToken;
  let postProcessor: Record<string, unknown> = {
    type: "ByteLevel",
    add_prefix_space: false,
    trim_offsets: false,
    use_regex: false,
  };
  if (pre !== undefined) {
    const tok = added.find((t) => t.content === pre);
    if (!tok) throw new RangeError(`prependToken ${JSON.stringify(pre)} is not a special token`);
    const special = { SpecialToken: { id: pre, type_id: 0 } };
    postProcessor = {
      type: "TemplateProcessing",
      single: [special, { Sequence: { id: "A", type_id: 0 } }],
      pair: [special, { Sequence: { id: "A", type_id: 0 } }, special, {
        Sequence: { id: "B", type_id: 1 },
      }],
      special_tokens: { [pre]: { id: pre, ids: [tok.id], tokens: [pre] } },
    };
  }
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: {
      type: "ByteLevel",
      add_prefix_space: false,
      trim_offsets: true,
      use_regex: true,
    },
    post_processor: postProcessor,
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: bpe.merges.map(([a, b]) => [a, b]),
    },
  };
}

/** The directory of the bundled English corpus. */
export const CORPUS_DIR: string = fileURLToPath(new URL("../../datasets/corpus/", import.meta.url));

/**
 * Reads the `.txt` files of a corpus directory in name order (default: the bundled corpus).
 *
 * @example
 * ```ts
 * import { readCorpus } from "./bpe.ts";
 * const texts = await readCorpus();
 * console.log(texts.length);
 * ```
 */
export async function readCorpus(dir: string = CORPUS_DIR): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".txt")) names.push(e.name);
  }
  names.sort();
  return await Promise.all(names.map((n) => Deno.readTextFile(`${dir.replace(/\/$/, "")}/${n}`)));
}
