import assert from "node:assert/strict";
import { join } from "node:path";
import { CachedEmbedder } from "./embeddings.ts";

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
