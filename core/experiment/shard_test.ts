import assert from "node:assert/strict";
import {
  formatShard,
  inShard,
  parseShard,
  parseShardOption,
  shardDirName,
  shardFromEnvironment,
  shardsRoot,
} from "./shard.ts";

Deno.test("parseShard() reads i/n and rejects out-of-range or malformed values", () => {
  assert.deepEqual(parseShard("0/1"), { index: 0, count: 1 });
  assert.deepEqual(parseShard(" 3 / 8 "), { index: 3, count: 8 });
  for (const bad of ["4/4", "1/0", "-1/2", "a/b", "1", "1/2/3"]) {
    assert.throws(
      () => parseShard(bad),
      (e: Error & { code?: string }) =>
        e instanceof RangeError && e.code === "E_USAGE" && e.message.includes(`'${bad}'`),
    );
  }
  assert.equal(formatShard({ index: 2, count: 5 }), "2/5");
  assert.equal(formatShard(undefined), "");
});

Deno.test("inShard() puts every index in exactly one shard", () => {
  for (const count of [1, 2, 3, 7]) {
    for (let index = 0; index < 50; index++) {
      const owners = Array.from({ length: count }, (_, i) => i).filter((i) =>
        inShard(index, { index: i, count })
      );
      assert.deepEqual(owners, [index % count]);
    }
  }
  assert.ok(inShard(12, undefined));
});

Deno.test("parseShardOption() takes the shard from Slurm array or Kubernetes Indexed Job variables", () => {
  const slurm = {
    SLURM_ARRAY_TASK_ID: "2",
    SLURM_ARRAY_TASK_COUNT: "3",
    SLURM_ARRAY_TASK_MIN: "0",
    SLURM_ARRAY_TASK_MAX: "2",
  };
  assert.deepEqual(parseShardOption("auto", slurm), { index: 2, count: 3 });
  // min/max alone (older Slurm without _COUNT)
  assert.deepEqual(
    parseShardOption("auto", { SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_MAX: "3" }),
    { index: 1, count: 4 },
  );
  // A resubmitted subset (--array=1) needs the count, and then takes it from auto/N.
  const subset = {
    SLURM_ARRAY_TASK_ID: "1",
    SLURM_ARRAY_TASK_COUNT: "1",
    SLURM_ARRAY_TASK_MIN: "1",
    SLURM_ARRAY_TASK_MAX: "1",
  };
  assert.throws(() => parseShardOption("auto", subset), /array is 1-1.*--shard auto\/N/);
  assert.deepEqual(parseShardOption("auto/3", subset), { index: 1, count: 3 });
  assert.deepEqual(parseShardOption(" auto / 5 ", { JOB_COMPLETION_INDEX: "4" }), {
    index: 4,
    count: 5,
  });
  assert.deepEqual(shardFromEnvironment({ JOB_COMPLETION_INDEX: "0" }, 2), { index: 0, count: 2 });
  // plain i/n ignores the environment
  assert.deepEqual(parseShardOption("0/2", slurm), { index: 0, count: 2 });
  const usage = (pattern: RegExp) => (e: Error & { code?: string }) =>
    e.code === "E_USAGE" && pattern.test(e.message);
  assert.throws(
    () => parseShardOption("auto", {}),
    usage(/neither SLURM_ARRAY_TASK_ID .* nor JOB_COMPLETION_INDEX/),
  );
  assert.throws(
    () => parseShardOption("auto", { JOB_COMPLETION_INDEX: "1" }),
    usage(/Kubernetes does not tell the number of completions; give it: --shard auto\/N/),
  );
  assert.throws(
    () => parseShardOption("auto/3", { JOB_COMPLETION_INDEX: "3" }),
    usage(/task 3, but there are 3 shard/),
  );
  assert.throws(
    () => parseShardOption("auto", { SLURM_ARRAY_TASK_ID: "x", SLURM_ARRAY_TASK_COUNT: "2" }),
    usage(/SLURM_ARRAY_TASK_ID is 'x'/),
  );
  assert.throws(
    () =>
      parseShardOption("auto", {
        SLURM_ARRAY_TASK_ID: "0",
        SLURM_ARRAY_TASK_COUNT: "3",
        SLURM_ARRAY_TASK_MIN: "0",
        SLURM_ARRAY_TASK_MAX: "4",
      }),
    usage(/holds 3 task\(s\) but reaches index 4/),
  );
  assert.throws(
    () => parseShardOption("auto/0", { JOB_COMPLETION_INDEX: "0" }),
    usage(/at least 1/),
  );
  assert.throws(() => parseShardOption("autox", slurm), usage(/'autox'/));
});

Deno.test("shardDirName() and shardsRoot() give each shard its own folder", () => {
  assert.equal(shardDirName({ index: 0, count: 3 }), "0-of-3");
  assert.equal(shardsRoot("runs/exp/"), "runs/exp.shards");
  const names = new Set([0, 1, 2].map((index) => shardDirName({ index, count: 3 })));
  assert.equal(names.size, 3);
});
