/**
 * A small PNG chunk reader and writer: enough to read and write the text chunks SillyTavern keeps
 * character cards in. Every chunk's CRC is verified on read.
 *
 * @module
 */

import { deflateSync, inflateSync } from "node:zlib";
import { withCode } from "../errors.ts";

/**
 * The eight bytes every PNG file starts with.
 *
 * @example
 * ```ts
 * import { PNG_SIGNATURE } from "./png_chunks.ts";
 * console.log(PNG_SIGNATURE.length); // 8
 * ```
 */
export const PNG_SIGNATURE: Uint8Array = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);

/** Most chunks a PNG may have before reading stops (a real image has a few hundred at most). */
export const MAX_PNG_CHUNKS = 4096;

/** Largest text a compressed `iTXt` chunk may inflate to (4 MiB). */
export const MAX_INFLATED_BYTES = 4 << 20;

/** One PNG chunk. */
export interface PngChunk {
  /** Four ASCII letters, e.g. `IHDR`, `tEXt`. */
  type: string;
  data: Uint8Array;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32 (the PNG / zlib polynomial) of one or more byte arrays, as if concatenated.
 *
 * @example
 * ```ts
 * import { crc32 } from "./png_chunks.ts";
 * console.log(crc32(new TextEncoder().encode("IEND")).toString(16)); // ae426082
 * ```
 */
export function crc32(...parts: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const bytes of parts) {
    for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Whether bytes start with the PNG signature.
 *
 * @example
 * ```ts
 * import { isPng, tinyPng } from "./png_chunks.ts";
 * console.log(isPng(tinyPng()), isPng(new Uint8Array([123]))); // true false
 * ```
 */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/**
 * Reads the chunks of a PNG file up to `IEND`, verifying lengths and CRCs.
 *
 * @example
 * ```ts
 * import { readPngChunks } from "./png_chunks.ts";
 * const chunks = readPngChunks(await Deno.readFile("card.png"));
 * console.log(chunks.map((c) => c.type));
 * ```
 */
export function readPngChunks(bytes: Uint8Array, source = "PNG"): PngChunk[] {
  if (!isPng(bytes)) {
    throw new SyntaxError(
      `${source}: not a PNG file (the first 8 bytes are not the PNG signature)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: PngChunk[] = [];
  let at = 8;
  while (at < bytes.length) {
    if (at + 12 > bytes.length) {
      throw new SyntaxError(
        `${source}: truncated chunk header at byte ${at}; the file is cut short`,
      );
    }
    const length = view.getUint32(at);
    const typeBytes = bytes.subarray(at + 4, at + 8);
    const type = String.fromCharCode(...typeBytes);
    if (!/^[A-Za-z]{4}$/.test(type)) {
      throw new SyntaxError(
        `${source}: chunk at byte ${at} has an invalid type ${JSON.stringify(type)}`,
      );
    }
    const end = at + 12 + length;
    if (end > bytes.length) {
      throw new SyntaxError(
        `${source}: chunk ${type} at byte ${at} declares ${length} bytes but the file ends first`,
      );
    }
    const data = bytes.subarray(at + 8, at + 8 + length);
    const stored = view.getUint32(at + 8 + length);
    const actual = crc32(typeBytes, data);
    if (stored !== actual) {
      throw new SyntaxError(
        `${source}: chunk ${type} at byte ${at} has CRC ${
          stored.toString(16)
        } but its bytes give ` +
          `${actual.toString(16)}; the file is corrupt`,
      );
    }
    chunks.push({ type, data });
    if (chunks.length > MAX_PNG_CHUNKS) {
      throw withCode(
        new RangeError(`${source}: more than ${MAX_PNG_CHUNKS} chunks; this is not a card image`),
        "E_LIMIT",
      );
    }
    at = end;
    if (type === "IEND") return chunks;
  }
  throw new SyntaxError(`${source}: no IEND chunk; the file is cut short`);
}

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The text chunks of a PNG (`tEXt`, and `iTXt` compressed or not) as keyword → text.
 * When a keyword repeats, the first occurrence wins.
 *
 * @example
 * ```ts
 * import { readPngText } from "./png_chunks.ts";
 * const text = readPngText(await Deno.readFile("card.png"));
 * console.log(text.has("chara"));
 * ```
 */
export function readPngText(bytes: Uint8Array, source = "PNG"): Map<string, string> {
  const out = new Map<string, string>();
  let budget = MAX_INFLATED_BYTES;
  for (const { type, data } of readPngChunks(bytes, source)) {
    if (type !== "tEXt" && type !== "iTXt") continue;
    const nul = data.indexOf(0);
    if (nul <= 0) throw new SyntaxError(`${source}: a ${type} chunk has no keyword`);
    const keyword = latin1.decode(data.subarray(0, nul));
    if (out.has(keyword)) continue; // the first occurrence wins: later ones are never decoded
    let text: string;
    if (type === "tEXt") text = latin1.decode(data.subarray(nul + 1));
    else {
      const compressed = data[nul + 1] === 1;
      let p = nul + 3;
      for (let skip = 0; skip < 2; skip++) p = data.indexOf(0, p) + 1; // language, translated keyword
      if (p === 0) throw new SyntaxError(`${source}: iTXt chunk ${keyword} is malformed`);
      const body = data.subarray(p);
      let raw = body;
      if (compressed) {
        try {
          raw = inflateSync(body, { maxOutputLength: Math.max(1, budget) });
        } catch (error) {
          const big = (error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE" ||
            /maxOutputLength|too large|Cannot create a Buffer/i.test(String(error));
          throw big
            ? withCode(
              new RangeError(
                `${source}: iTXt chunk ${keyword} inflates past ${MAX_INFLATED_BYTES} bytes; ` +
                  "a card is far smaller",
              ),
              "E_LIMIT",
            )
            : new SyntaxError(`${source}: iTXt chunk ${keyword} is not valid zlib data`);
        }
      }
      try {
        text = utf8.decode(raw);
      } catch {
        throw new SyntaxError(`${source}: iTXt chunk ${keyword} is not UTF-8 text`);
      }
    }
    budget -= text.length;
    if (budget < 0) {
      throw withCode(
        new RangeError(`${source}: the text chunks hold more than ${MAX_INFLATED_BYTES} bytes`),
        "E_LIMIT",
      );
    }
    out.set(keyword, text);
  }
  return out;
}

/**
 * Serialises chunks into PNG bytes (signature, then length, type, data and CRC for each).
 *
 * @example
 * ```ts
 * import { encodePng, textChunk } from "./png_chunks.ts";
 * const bytes = encodePng([textChunk("Comment", "hi"), { type: "IEND", data: new Uint8Array() }]);
 * ```
 */
export function encodePng(chunks: PngChunk[]): Uint8Array<ArrayBuffer> {
  const total = 8 + chunks.reduce((s, c) => s + 12 + c.data.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(PNG_SIGNATURE, 0);
  let at = 8;
  for (const { type, data } of chunks) {
    const typeBytes = new TextEncoder().encode(type);
    if (typeBytes.length !== 4) {
      throw new TypeError(`chunk type ${JSON.stringify(type)} must be 4 letters`);
    }
    view.setUint32(at, data.length);
    out.set(typeBytes, at + 4);
    out.set(data, at + 8);
    view.setUint32(at + 8 + data.length, crc32(typeBytes, data));
    at += 12 + data.length;
  }
  return out;
}

/**
 * A `tEXt` chunk. The text must be Latin-1 (base64 card payloads are ASCII).
 *
 * @example
 * ```ts
 * import { textChunk } from "./png_chunks.ts";
 * console.log(textChunk("chara", "eyJ9").type); // "tEXt"
 * ```
 */
export function textChunk(keyword: string, text: string): PngChunk {
  if (!/^[\x20-\x7e]{1,79}$/.test(keyword)) {
    throw new TypeError(
      `tEXt keyword ${JSON.stringify(keyword)} must be 1-79 printable ASCII characters`,
    );
  }
  // deno-lint-ignore no-control-regex
  if (/[^\x00-\xff]/.test(text)) {
    throw new TypeError(
      `tEXt ${keyword}: the text has characters outside Latin-1; base64 it first`,
    );
  }
  const data = new Uint8Array(keyword.length + 1 + text.length);
  for (let i = 0; i < keyword.length; i++) data[i] = keyword.charCodeAt(i);
  for (let i = 0; i < text.length; i++) data[keyword.length + 1 + i] = text.charCodeAt(i);
  return { type: "tEXt", data };
}

/**
 * A valid 1×1 RGBA PNG carrying the given extra chunks (placed before `IDAT`), for writing cards
 * and for tests.
 *
 * @example
 * ```ts
 * import { tinyPng, textChunk } from "./png_chunks.ts";
 * await Deno.writeFile("card.png", tinyPng([textChunk("chara", btoa("{}"))]));
 * ```
 */
export function tinyPng(
  extra: PngChunk[] = [],
  rgba: [number, number, number, number] = [200, 120, 80, 255],
): Uint8Array<ArrayBuffer> {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, 1); // width
  v.setUint32(4, 1); // height
  ihdr.set([8, 6, 0, 0, 0], 8); // bit depth 8, colour type RGBA, deflate, adaptive filter, no interlace
  const scanline = new Uint8Array([0, ...rgba]); // filter byte "none" then one pixel
  return encodePng([
    { type: "IHDR", data: ihdr },
    ...extra,
    { type: "IDAT", data: new Uint8Array(deflateSync(scanline)) },
    { type: "IEND", data: new Uint8Array() },
  ]);
}
