import assert from "node:assert/strict";
import { HirpfOptionsSchema } from "./options.ts";

Deno.test("HirpfOptionsSchema applies the A5 defaults", () => {
  const o = HirpfOptionsSchema.parse({});
  assert.deepEqual(
    [
      o.insert_mode,
      o.sparse,
      o.train_gates,
      o.r,
      o.alpha,
      o.dropout,
      o.lr,
      o.warmup_steps,
      o.batch_size,
    ],
    ["alternate", true, true, 16, 16, 0.05, 1e-4, 100, 64],
  );
  assert.deepEqual(o.professions, ["Doctor", "Artist", "Programmer"]);
});

Deno.test("HirpfOptionsSchema rejects bad professions and modes", () => {
  assert.equal(HirpfOptionsSchema.safeParse({ professions: ["Data_Scientist"] }).success, false);
  assert.equal(HirpfOptionsSchema.safeParse({ insert_mode: "stacked" }).success, false);
  assert.equal(HirpfOptionsSchema.safeParse({ r: 0 }).success, false);
});
