/**
 * The bytes of every token of a tokenizer, in a trie, computed once per tokenizer and cached.
 * Constraints walk the trie from an automaton state, so tokens sharing a prefix share the work,
 * and a dead prefix prunes every token under it.
 *
 * How token bytes are found, by the tokenizer's decoder (from `tokenizer.json`):
 * - ByteLevel (GPT-2, Llama 3, Qwen, the tiny presets): each character of the token string maps
 *   back to one byte through the GPT-2 byte↔unicode table;
 * - SentencePiece style (Metaspace / Replace `▁`, ByteFallback): `<0xNN>` is byte NN, `▁` is a
 *   space, the rest is UTF-8; when the decoder drops the first token's leading space (Strip or
 *   Metaspace prepend), {@link TokenTable.stripsLeadingSpace} is set and the mask accounts for it;
 * - anything else: the UTF-8 of the token decoded alone; tokens that do not decode to whole
 *   characters are left out (never allowed under a constraint).
 * Special tokens are never allowed (EOS is handled separately); other added tokens are their text.
 * A sample of tokens is checked against the tokenizer's own decoding; a mismatch raises a
 * `TypeError` (code `E_TOKENIZER`) instead of producing outputs that would break the constraint.
 *
 * @module
 */

import { withCode } from "../../errors.ts";

/** What the table needs from a tokenizer (a `ModelTokenizer` fits). */
export interface TokenSource {
  readonly vocabSize: number;
  readonly specialTokenIds: readonly number[];
  idToToken(id: number): string | undefined;
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  /** The transformers.js tokenizer, read for its `tokenizer.json` decoder when present. */
  readonly raw?: unknown;
}

/** Per-tokenizer token bytes and their trie. */
export interface TokenTable {
  /** Bytes of each token id; null for ids never allowed (special, unknown, undecodable). */
  readonly bytes: readonly (Uint8Array | null)[];
  /** Trie nodes: the byte on the edge into each node (node 0 is the root). */
  readonly nodeByte: Uint8Array;
  readonly firstChild: Int32Array;
  readonly nextSibling: Int32Array;
  /** Token ids ending at node k: `nodeTokens[tokenStart[k] .. tokenStart[k + 1])`. */
  readonly tokenStart: Int32Array;
  readonly nodeTokens: Int32Array;
  /** Whether every byte value is some allowed token by itself (then bytes bound token counts). */
  readonly coversAllBytes: boolean;
  /** The decoder removes one leading space from the first generated token. */
  readonly stripsLeadingSpace: boolean;
  /** How token bytes were read: "byte-level", "sentencepiece" or "decoded". */
  readonly scheme: "byte-level" | "sentencepiece" | "decoded";
}

/** The GPT-2 byte → unicode table, inverted: code point → byte. */
function unicodeToByte(): Map<number, number> {
  const out = new Map<number, number>();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    out.set(printable ? b : 256 + n++, b);
  }
  return out;
}

interface DecoderJson {
  type?: string;
  decoders?: DecoderJson[];
  start?: number;
  content?: string;
  prepend_scheme?: string;
  add_prefix_space?: boolean;
  pattern?: { String?: string };
}

function decoderTypes(d: DecoderJson | null | undefined): DecoderJson[] {
  if (!d) return [];
  return d.type === "Sequence" ? (d.decoders ?? []).flatMap(decoderTypes) : [d];
}

const cache = new WeakMap<object, TokenTable>();
const utf8 = new TextEncoder();

/**
 * The token table of a tokenizer (built on first use, then cached per tokenizer object).
 *
 * @example
 * ```ts
 * import { tokenTable } from "./token_table.ts";
 * import { loadTokenizer } from "../tokenizer.ts";
 * const tok = await loadTokenizer("./models/tiny");
 * const table = tokenTable(tok);
 * console.log(table.scheme, table.bytes[32]); // "byte-level" Uint8Array [32]
 * ```
 */
export function tokenTable(tokenizer: TokenSource): TokenTable {
  let table = cache.get(tokenizer);
  if (!table) {
    table = buildTable(tokenizer);
    cache.set(tokenizer, table);
  }
  return table;
}

function buildTable(tok: TokenSource): TokenTable {
  const json = (tok.raw as { _tokenizerJSON?: Record<string, unknown> } | undefined)
    ?._tokenizerJSON;
  const decoders = decoderTypes(json?.decoder as DecoderJson | undefined);
  const has = (t: string) => decoders.some((d) => d.type === t);
  const scheme: TokenTable["scheme"] = has("ByteLevel")
    ? "byte-level"
    : has("Metaspace") || has("ByteFallback") ||
        decoders.some((d) => d.type === "Replace" && d.pattern?.String === "▁")
    ? "sentencepiece"
    : "decoded";
  const stripsLeadingSpace = scheme === "sentencepiece" &&
    decoders.some((d) =>
      (d.type === "Strip" && (d.start ?? 0) >= 1 && d.content === " ") ||
      (d.type === "Metaspace" &&
        (d.prepend_scheme === "first" || d.prepend_scheme === "always" ||
          (d.prepend_scheme === undefined && d.add_prefix_space === true)))
    );
  const added = new Map<number, { content: string; special: boolean }>();
  for (
    const a of (json?.added_tokens ?? []) as { id: number; content: string; special: boolean }[]
  ) {
    added.set(a.id, a);
  }
  const special = new Set(tok.specialTokenIds);
  const u2b = unicodeToByte();
  const bytes: (Uint8Array | null)[] = new Array(tok.vocabSize).fill(null);
  for (let id = 0; id < tok.vocabSize; id++) {
    if (special.has(id)) continue;
    const a = added.get(id);
    if (a) {
      if (!a.special && a.content.length > 0) bytes[id] = utf8.encode(a.content);
      continue;
    }
    const s = tok.idToToken(id);
    if (s === undefined || s.length === 0) continue;
    if (scheme === "byte-level") {
      const out: number[] = [];
      let ok = true;
      for (const ch of s) {
        const b = u2b.get(ch.codePointAt(0)!);
        if (b === undefined) {
          ok = false;
          break;
        }
        out.push(b);
      }
      if (ok) bytes[id] = Uint8Array.from(out);
    } else if (scheme === "sentencepiece") {
      const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(s);
      bytes[id] = m ? Uint8Array.of(parseInt(m[1], 16)) : utf8.encode(s.replaceAll("▁", " "));
    } else {
      const text = tok.decode([id]);
      if (text.length > 0 && !text.includes("\uFFFD")) bytes[id] = utf8.encode(text);
    }
  }
  selfCheck(tok, bytes, stripsLeadingSpace, scheme);

  // Trie: children found through a map during the build, then stored as sibling lists.
  const childOf = new Map<number, number>();
  const nodeByte: number[] = [0];
  const ends: number[][] = [[]];
  const singles = new Uint8Array(256);
  bytes.forEach((bs, id) => {
    if (!bs || bs.length === 0) return;
    if (bs.length === 1) singles[bs[0]] = 1;
    let node = 0;
    for (const b of bs) {
      const k = node * 256 + b;
      let next = childOf.get(k);
      if (next === undefined) {
        next = nodeByte.length;
        nodeByte.push(b);
        ends.push([]);
        childOf.set(k, next);
      }
      node = next;
    }
    ends[node].push(id);
  });
  const n = nodeByte.length;
  const firstChild = new Int32Array(n).fill(-1);
  const nextSibling = new Int32Array(n).fill(-1);
  for (const [k, child] of childOf) {
    const parent = Math.floor(k / 256);
    nextSibling[child] = firstChild[parent];
    firstChild[parent] = child;
  }
  const tokenStart = new Int32Array(n + 1);
  for (let k = 0; k < n; k++) tokenStart[k + 1] = tokenStart[k] + ends[k].length;
  const nodeTokens = new Int32Array(tokenStart[n]);
  for (let k = 0; k < n; k++) nodeTokens.set(ends[k], tokenStart[k]);
  return {
    bytes,
    nodeByte: Uint8Array.from(nodeByte),
    firstChild,
    nextSibling,
    tokenStart,
    nodeTokens,
    coversAllBytes: singles.every((x) => x === 1),
    stripsLeadingSpace,
    scheme,
  };
}

/** Compares the computed bytes with the tokenizer's own decoding on a spread of tokens. */
function selfCheck(
  tok: TokenSource,
  bytes: readonly (Uint8Array | null)[],
  strip: boolean,
  scheme: string,
): void {
  const fatal = new TextDecoder("utf-8", { fatal: true });
  const raw = tok.raw as
    | { decode?: (ids: number[], o: Record<string, unknown>) => string }
    | undefined;
  const decode = (id: number) =>
    typeof raw?.decode === "function"
      ? raw.decode([id], { clean_up_tokenization_spaces: false })
      : tok.decode([id]);
  const step = Math.max(1, Math.floor(bytes.length / 400));
  for (let id = 0; id < bytes.length; id += step) {
    const bs = bytes[id];
    if (!bs) continue;
    let text: string;
    try {
      text = fatal.decode(bs);
    } catch {
      continue; // a partial UTF-8 sequence: the tokenizer shows U+FFFD for it
    }
    const want = strip && text.startsWith(" ") ? text.slice(1) : text;
    const got = decode(id);
    if (got !== want) {
      throw withCode(
        new TypeError(
          `token ${id} decodes to ${JSON.stringify(got)} but its ${scheme} bytes read ` +
            `${JSON.stringify(want)}; constrained decoding does not support this tokenizer's ` +
            `decoder yet`,
        ),
        "E_TOKENIZER",
      );
    }
  }
}

/**
 * Walks the trie from `state`: calls `visit(id, next)` for every token whose bytes keep the
 * automaton alive, with the state after them. `first` strips one leading space (see
 * {@link TokenTable.stripsLeadingSpace}).
 *
 * @example
 * ```ts
 * import { tokenTable, walkTokens } from "./token_table.ts";
 * import { compileRegex } from "./byte_dfa.ts";
 * import { loadTokenizer } from "../tokenizer.ts";
 * const table = tokenTable(await loadTokenizer("./models/tiny"));
 * const dfa = compileRegex("yes|no");
 * walkTokens(table, dfa, dfa.start, (id, next) => console.log(id, dfa.accepting(next)));
 * ```
 */
export function walkTokens<S>(
  table: TokenTable,
  automaton: { step(state: S, byte: number): S | null },
  state: S,
  visit: (id: number, next: S) => void,
  first = false,
): void {
  const { nodeByte, firstChild, nextSibling, tokenStart, nodeTokens } = table;
  const go = (node: number, s: S, atRoot: boolean) => {
    for (let c = firstChild[node]; c >= 0; c = nextSibling[c]) {
      const b = nodeByte[c];
      const next = atRoot && first && b === 0x20 ? s : automaton.step(s, b);
      if (next === null) continue;
      // a lone stripped space adds nothing: not a useful token
      if (!(atRoot && first && b === 0x20)) {
        for (let k = tokenStart[c]; k < tokenStart[c + 1]; k++) visit(nodeTokens[k], next);
      }
      go(c, next, false);
    }
  };
  go(0, state, true);
}
