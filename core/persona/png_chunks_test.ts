import assert from "node:assert/strict";
import { crc32 as zlibCrc32, inflateSync } from "node:zlib";
import { crc32, isPng, readPngChunks, readPngText, textChunk, tinyPng } from "./png_chunks.ts";

Deno.test("crc32() matches node:zlib", () => {
  for (const s of ["", "IEND", "tEXtchara\0abc", "héllo"]) {
    const bytes = new TextEncoder().encode(s);
    assert.equal(crc32(bytes), zlibCrc32(bytes) >>> 0);
  }
});

Deno.test("tinyPng() writes a 1x1 PNG whose chunks read back", () => {
  const png = tinyPng([textChunk("chara", "e30="), textChunk("Comment", "x")]);
  assert.ok(isPng(png));
  const chunks = readPngChunks(png);
  assert.deepEqual(chunks.map((c) => c.type), ["IHDR", "tEXt", "tEXt", "IDAT", "IEND"]);
  const ihdr = new DataView(chunks[0].data.buffer, chunks[0].data.byteOffset);
  assert.equal(ihdr.getUint32(0), 1);
  assert.equal(ihdr.getUint32(4), 1);
  assert.deepEqual([...inflateSync(chunks[3].data)], [0, 200, 120, 80, 255]);
  assert.deepEqual([...readPngText(png)], [["chara", "e30="], ["Comment", "x"]]);
});

Deno.test("readPngChunks() rejects a corrupted CRC, a truncation and a non-PNG", () => {
  const png = tinyPng([textChunk("chara", "e30=")]);
  const bad = png.slice();
  bad[8 + 25 + 8 + 2] ^= 0xff; // a byte inside the tEXt data (after IHDR: 8 sig + 25)
  assert.throws(() => readPngChunks(bad, "card.png"), /card\.png: chunk tEXt .*CRC/);
  assert.throws(() => readPngChunks(png.slice(0, png.length - 6)), SyntaxError);
  assert.throws(() => readPngChunks(new TextEncoder().encode('{"a":1}')), /not a PNG/);
});
