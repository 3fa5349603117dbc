import assert from "node:assert/strict";
import { formatShard, inShard, parseShard } from "./shard.ts";

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
