import { runCli } from "../cli.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Engine, graphBuildIdentity } from "../../core/model/engine.ts";
import { listGraphCache, pruneGraphCache } from "../../core/model/graph_cache.ts";
import { createTinyModel } from "../../core/model/tiny.ts";

const cli = (...args: string[]) => runCli(args);

async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

/** Runs `fn` with a seeded tiny model and an empty graph cache in a temporary folder. */
async function withTinyModel(fn: (model: string, cache: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "dramatis_gcache_" });
  try {
    const model = join(root, "m");
    await createTinyModel(model, { preset: "tiny-llama", seed: 2 });
    await fn(model, join(root, "graphs"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("graph cache: folders listed with their own bytes; stale ones and unused ones pruned, their orphaned weights too", () =>
  withTinyModel(async (model, cache) => {
    for (const steering of [false, true]) {
      await (await Engine.load(model, { steering, cacheDir: cache, threads: 1 })).close();
    }
    const identity = await graphBuildIdentity();
    let entries = await listGraphCache(cache, identity);
    assert.deepEqual(entries.map((e) => e.kind), ["graph", "graph", "weights"]);
    assert.ok(entries.every((e) => !e.stale), JSON.stringify(entries.map((e) => e.stale)));
    // The shared weights are linked from both graphs: they belong to the weights folder only.
    const weights = entries[2];
    const data = (await Deno.stat(join(weights.dir, "weights.bin"))).size;
    assert.equal(weights.bytes, weights.apparentBytes);
    assert.ok(weights.bytes >= data);
    for (const g of entries.slice(0, 2)) {
      assert.equal(g.modelDir, model);
      assert.ok(g.bytes < g.apparentBytes - data + 1, "a graph's own bytes leave out the link");
    }
    // Nothing is stale and nothing unused: a prune keeps all.
    let r = await pruneGraphCache(cache, identity, { minAgeMs: 0, olderThanDays: 1 });
    assert.equal(r.removed.length, 0);

    // One graph "built by an older builder", the other unused for 40 days.
    const [a, b] = entries;
    const recordPath = join(a.dir, "done.json");
    const record = JSON.parse(await Deno.readTextFile(recordPath));
    record.build.builder = ["./decoder_graph.ts:1:1"];
    await Deno.writeTextFile(recordPath, JSON.stringify(record));
    const old = new Date(Date.now() - 40 * 86_400_000);
    await Deno.utime(join(b.dir, "done.json"), old, old);
    entries = await listGraphCache(cache, identity);
    assert.equal(
      entries.find((e) => e.key === a.key)!.stale,
      "built by another version of the graph builder",
    );
    // A dry run says what would go (both graphs, then their weights) and removes nothing.
    r = await pruneGraphCache(cache, identity, { minAgeMs: 0, olderThanDays: 30, dryRun: true });
    assert.deepEqual(
      r.removed.map((e) => [e.key, e.reason]),
      [
        [a.key, "built by another version of the graph builder"],
        [b.key, "unused for more than 30 days"],
        [weights.key, "no graph uses these weights"],
      ].sort((x, y) =>
        entries.findIndex((e) => e.key === x[0]) - entries.findIndex((e) => e.key === y[0])
      ),
    );
    assert.equal((await tree(cache)).length, 3);
    // Without --older-than only the stale graph goes; its weights stay (the other graph links them).
    r = await pruneGraphCache(cache, identity, { minAgeMs: 0 });
    assert.deepEqual(r.removed.map((e) => e.key), [a.key]);
    assert.deepEqual(await tree(cache), [b.key, "weights"].sort());
    // Then the unused one, and the weights with it.
    r = await pruneGraphCache(cache, identity, { minAgeMs: 0, olderThanDays: 30 });
    assert.deepEqual(r.removed.map((e) => e.key), [b.key, weights.key]);
    assert.ok(r.freedBytes >= data);
    assert.deepEqual(await tree(join(cache, "weights")), []);
    // A later load rebuilds what it needs.
    const engine = await Engine.load(model, { cacheDir: cache, threads: 1 });
    assert.equal((await engine.generate("Hi", { maxNewTokens: 2 })).completions.length, 1);
    await engine.close();
    // A folder whose model is gone is stale; the CLI lists and prunes it.
    await Deno.remove(model, { recursive: true });
    entries = await listGraphCache(cache, identity);
    assert.match(entries[0].stale ?? "", /model folder .* is gone/);
    // Older than the minute a prune leaves alone (an export may be in progress).
    const past = new Date(Date.now() - 2 * 86_400_000);
    for (const e of entries) {
      await Deno.utime(e.kind === "graph" ? join(e.dir, "done.json") : e.dir, past, past);
    }
    const dry = await cli("model", "cache", "--dir", cache, "--prune", "--dry-run", "--json");
    assert.equal(dry.code, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout);
    assert.deepEqual(
      plan.removed.map((e: { kind: string; reason: string }) => e.kind),
      ["graph", "weights"],
    );
    assert.equal((await tree(cache)).length, 2, "a dry run removes nothing");
    const listed = await cli("model", "cache", "--dir", cache);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /STALE: its model folder .* is gone/);
    const pruned = await cli("model", "cache", "--dir", cache, "--prune");
    assert.match(pruned.stdout, /Freed 0\.00 GB in 2 folders; 0 kept/);
    assert.deepEqual(await tree(join(cache, "weights")), []);
    const bad = await cli("model", "cache", "--dir", cache, "--older-than", "2");
    assert.equal(bad.code, 2, "--older-than without --prune is a usage error");
    assert.match(bad.stderr, /--older-than and --dry-run go with --prune/);
  }));

Deno.test("graph cache: a float16 graph records the float16 pass it was built with and is stale once the pass changes", () =>
  withTinyModel(async (model, cache) => {
    await (await Engine.load(model, { dtype: "f16", compute: "f16", cacheDir: cache, threads: 1 }))
      .close();
    const identity = await graphBuildIdentity();
    const [graph] = await listGraphCache(cache, identity);
    assert.equal(graph.kind, "graph");
    assert.equal(graph.stale, undefined);
    const recordPath = join(graph.dir, "done.json");
    const record = JSON.parse(await Deno.readTextFile(recordPath));
    assert.deepEqual(record.build.halfPass, identity.halfPass);
    assert.ok(record.build.halfPass.length > 0, "the pass's source file is stamped");
    record.build.halfPass = ["../onnx/float16_compute.ts:1:1"];
    await Deno.writeTextFile(recordPath, JSON.stringify(record));
    const [after] = await listGraphCache(cache, identity);
    assert.equal(after.stale, "built by another version of the float16 pass");
  }));
