import assert from "node:assert/strict";
import type { ChatMessage } from "../../core/contracts/chat_model.ts";
import { approxTokenCount, trimContext } from "./context_window.ts";

const len = (t: string) => t.length;
const msgs = (...c: string[]): ChatMessage[] =>
  c.map((content, i) => ({ role: i === 0 ? "system" : i % 2 ? "user" : "assistant", content }));

Deno.test("trimContext() keeps everything that fits", () => {
  const m = msgs("ssss", "uu", "aa", "u2");
  assert.deepEqual(trimContext(m, len, 2, 12), m); // 10 + 2 = 12 fits
});

Deno.test("trimContext() drops the oldest pairs until the excess is covered", () => {
  const m = msgs("s", "u1xxx", "a1xxx", "u2xxx", "a2xxx", "u3");
  // total 1+5+5+5+5+2 = 23, +3 new = 26 > 20: excess 6 → one pair (10) is enough
  assert.deepEqual(trimContext(m, len, 3, 20).map((x) => x.content), ["s", "u2xxx", "a2xxx", "u3"]);
  // window 10: excess 16 → both pairs go
  assert.deepEqual(trimContext(m, len, 3, 10).map((x) => x.content), ["s", "u3"]);
});

Deno.test("trimContext() never drops the system or the current message", () => {
  const m = msgs("s".repeat(50), "u".repeat(50));
  assert.equal(trimContext(m, len, 100, 10).length, 2);
});

Deno.test("approxTokenCount() estimates four characters per token, at least one per word", () => {
  assert.equal(approxTokenCount("abcdefgh"), 2);
  assert.equal(approxTokenCount("a b c d e"), 5);
  assert.equal(approxTokenCount(""), 0);
});
