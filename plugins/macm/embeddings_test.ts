import assert from "node:assert/strict";
import { join } from "node:path";
import { CachedEmbedder, meanPool } from "./embeddings.ts";

Deno.test("meanPool() averages each row's real tokens and skips left padding", () => {
  // B=2, S=3, H=2; row 0 has one padding slot, row 1 none
  const hidden = [100, 100, 1, 2, 3, 4, 1, 1, 2, 2, 3, 3];
  assert.deepEqual(meanPool(hidden, [2, 3, 2], [1, 0]), [[2, 3], [2, 2]]);
});

Deno.test("CachedEmbedder() embeds each new text once and keeps vectors across instances", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const seen: string[][] = [];
    const inner = {
      id: "len",
      embed: (t: string[]) => (seen.push(t), Promise.resolve(t.map((s) => [s.length, 1]))),
    };
    const a = new CachedEmbedder(inner, join(dir, "e.sqlite"));
    assert.deepEqual(await a.embed(["ab", "c", "ab"]), [[2, 1], [1, 1], [2, 1]]);
    assert.deepEqual(seen, [["ab", "c"]]);
    a.close();
    const b = new CachedEmbedder(inner, join(dir, "e.sqlite"));
    assert.deepEqual(await b.embed(["c", "xyz"]), [[1, 1], [3, 1]]);
    assert.deepEqual(seen, [["ab", "c"], ["xyz"]]);
    assert.deepEqual(b.stats, { hits: 1, misses: 1 });
    b.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
