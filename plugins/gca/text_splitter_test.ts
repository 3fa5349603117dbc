import assert from "node:assert/strict";
import { splitText } from "./text_splitter.ts";

Deno.test("splitText() merges words into chunks with overlap", () => {
  assert.deepEqual(splitText("aa bb cc dd", { chunkSize: 8, chunkOverlap: 4 }), [
    "aa bb cc",
    "cc dd",
  ]);
  assert.deepEqual(splitText("aaa bbb ccc", { chunkSize: 7, chunkOverlap: 3 }), ["aaa bbb", "ccc"]);
});

Deno.test("splitText() prefers paragraph breaks and recurses into long pieces", () => {
  const text = "p1 short\n\np2 " + "x".repeat(12);
  // the 12-x word with its leading space (13 chars) is split into characters; the space counts
  // towards the first character chunk and is trimmed away, leaving 11 + 1 x
  assert.deepEqual(splitText(text, { chunkSize: 12, chunkOverlap: 0 }), [
    "p1 short",
    "p2",
    "x".repeat(11),
    "x",
  ]);
});

Deno.test("splitText() with the defaults keeps chunks within 1000 characters and overlapping", () => {
  const words = Array.from({ length: 600 }, (_, i) => `w${String(i).padStart(3, "0")}`);
  const chunks = splitText(words.join(" "));
  assert.ok(chunks.length >= 3);
  for (const c of chunks) assert.ok(c.length <= 1000);
  for (let i = 1; i < chunks.length; i++) {
    const firstWord = chunks[i].split(" ")[0];
    assert.ok(chunks[i - 1].includes(firstWord), "consecutive chunks overlap");
  }
  assert.deepEqual(chunks.join(" ").split(" ").filter((w, i, a) => a.indexOf(w) === i), words);
});

Deno.test("splitText() rejects an overlap not below the chunk size", () => {
  assert.throws(() => splitText("x", { chunkSize: 10, chunkOverlap: 10 }), /chunkOverlap is 10/);
});
