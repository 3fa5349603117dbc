import assert from "node:assert/strict";
import { join } from "node:path";
import { parseExperiment } from "./load_experiment.ts";
import { mergeRuns } from "./merge_runs.ts";
import { defaultRunDir, runExperiment } from "./run_experiment.ts";
import { readJsonl } from "./run_store.ts";
import type { OutputRecord } from "./step_executor.ts";
import {
  echoFactory,
  resetToy,
  toyExperiment,
  toyRegistry,
  toyState,
} from "./testing/toy_plugin.ts";

async function files(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (
    const name of [
      "metrics.jsonl",
      ...["fit", "sim", "score", "sweep", "note"].map((s) => `steps/${s}/output.jsonl`),
    ]
  ) {
    out[name] = await Deno.readTextFile(join(dir, name));
  }
  return out;
}

Deno.test("runExperiment() shards partition the items and mergeRuns() gives the unsharded result", async () => {
  resetToy();
  const dir = await Deno.makeTempDir({ prefix: "exp_shard_" });
  try {
    const raw = await toyExperiment(dir, 7);
    const loaded = { experiment: parseExperiment(raw, "t"), raw, source: "t", baseDir: dir };
    const registry = toyRegistry();
    const opts = { registry, modelFactory: echoFactory };
    await runExperiment(loaded, { ...opts, out: join(dir, "full") });
    const full = await files(join(dir, "full"));

    const shardDirs: string[] = [];
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const out = join(dir, `shard-${i}`);
      shardDirs.push(out);
      const r = await runExperiment(loaded, { ...opts, out, shard: { index: i, count: 3 } });
      const sim = await readJsonl<OutputRecord>(join(out, "steps/sim/output.jsonl"));
      assert.ok(sim.every((rec) => rec.index % 3 === i), `shard ${i} holds only its items`);
      seen.push(...sim.map((rec) => rec.index));
      assert.equal(
        r.steps.find((s) => s.id === "fit")!.items,
        1,
        "every shard runs the non-fan-out steps",
      );
    }
    assert.deepEqual(seen.sort(), [0, 1, 2, 3, 4, 5, 6], "the shards partition the items");

    const merged = join(dir, "merged");
    const r = await mergeRuns(shardDirs.slice().reverse(), { out: merged });
    assert.equal(r.shards, 3);
    assert.deepEqual(await files(merged), full);
    await mergeRuns(shardDirs, { out: merged });
    assert.deepEqual(await files(merged), full, "merging again gives the same directory");

    // The merged directory reads as a finished unsharded run: running there skips every step.
    const calls = { ...toyState.calls };
    const again = await runExperiment(loaded, { ...opts, out: merged });
    assert.ok(again.steps.every((s) => s.status === "skipped"));
    assert.deepEqual(toyState.calls, calls);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mergeRuns() refuses missing shards, other configs and unfinished shards", async () => {
  resetToy();
  const dir = await Deno.makeTempDir({ prefix: "exp_merge_" });
  try {
    const raw = await toyExperiment(dir, 4) as { steps: { with: Record<string, unknown> }[] };
    const load = (r: unknown) => ({
      experiment: parseExperiment(r, "t"),
      raw: r,
      source: "t",
      baseDir: dir,
    });
    const opts = { registry: toyRegistry(), modelFactory: echoFactory };
    await runExperiment(load(raw), {
      ...opts,
      out: join(dir, "a0"),
      shard: { index: 0, count: 2 },
    });
    await runExperiment(load(raw), {
      ...opts,
      out: join(dir, "a1"),
      shard: { index: 1, count: 2 },
    });
    const other = structuredClone(raw);
    other.steps[2].with.limit = 3;
    await runExperiment(load(other), {
      ...opts,
      out: join(dir, "b1"),
      shard: { index: 1, count: 2 },
    });

    await assert.rejects(
      mergeRuns([join(dir, "a0")], { out: join(dir, "m") }),
      /shard\(s\) 1\/2 missing/,
    );
    await assert.rejects(
      mergeRuns([join(dir, "a0"), join(dir, "b1")], { out: join(dir, "m") }),
      /config hash .* merge only the shards of one experiment config/,
    );
    await assert.rejects(
      mergeRuns([join(dir, "a0"), join(dir, "a0")], { out: join(dir, "m") }),
      /both shard 0\/2/,
    );
    await assert.rejects(
      mergeRuns([join(dir, "a0"), join(dir, "a1")], { out: join(dir, "a1") }),
      /also an input/,
    );

    toyState.failOn.add("judge");
    await assert.rejects(
      runExperiment(load(raw), { ...opts, out: join(dir, "c1"), shard: { index: 1, count: 2 } }),
    );
    await assert.rejects(
      mergeRuns([join(dir, "a0"), join(dir, "c1")], { out: join(dir, "m") }),
      /step 'score' is failed in .*c1; rerun that shard/,
    );
    await assert.rejects(
      runExperiment(load(raw), { ...opts, out: join(dir, "a0"), shard: { index: 1, count: 2 } }),
      /holds shard '0\/2', not '1\/2'/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mergeRuns() takes a shards folder for its shards and names the one that never ran", async () => {
  resetToy();
  const dir = await Deno.makeTempDir({ prefix: "exp_merge_root_" });
  try {
    const raw = await toyExperiment(dir, 5);
    const loaded = { experiment: parseExperiment(raw, "t"), raw, source: "t", baseDir: dir };
    const opts = { registry: toyRegistry(), modelFactory: echoFactory };
    await runExperiment(loaded, { ...opts, out: join(dir, "full") });
    // The default folder of a shard (runs/<name>.shards/<i>-of-<n>), here under `dir`.
    const shardOut = (index: number) => join(dir, defaultRunDir("toy-exp", { index, count: 3 }));
    const dirs: string[] = [];
    for (const index of [2, 0]) {
      const r = await runExperiment(loaded, {
        ...opts,
        out: shardOut(index),
        shard: { index, count: 3 },
      });
      dirs.push(r.runDir);
    }
    const root = join(dir, "runs", "toy-exp.shards");
    assert.deepEqual(dirs, [join(root, "2-of-3"), join(root, "0-of-3")]);
    await assert.rejects(
      mergeRuns([root], { out: join(dir, "merged") }),
      /shard\(s\) 1\/3 missing/,
    );
    await assert.rejects(
      mergeRuns([0, 1, 2].map((i) => join(root, `${i}-of-3`)), { out: join(dir, "merged") }),
      (e: Error & { code?: string }) =>
        e.code === "E_CONFIG" &&
        e.message.includes(`shard 1/3 has not run: ${join(root, "1-of-3")} does not exist`),
    );
    await runExperiment(loaded, { ...opts, out: shardOut(1), shard: { index: 1, count: 3 } });
    const r = await mergeRuns([root], { out: join(dir, "merged") });
    assert.equal(r.shards, 3);
    assert.deepEqual(await files(join(dir, "merged")), await files(join(dir, "full")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
