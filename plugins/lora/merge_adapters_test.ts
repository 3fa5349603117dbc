import assert from "node:assert/strict";
import type { Adapter } from "../../core/contracts/adapter.ts";
import { errorCode } from "../../core/errors.ts";
import { mergeAdapters } from "../../core/model/merge_adapters.ts";
import { LoraAdapter } from "./lora_adapter.ts";
import { mergeLora } from "./merge_lora.ts";
import { randomizeLora, tinyFixture } from "./testing/fixtures.ts";

Deno.test("core mergeAdapters() (identity rows through the adapter graph) equals mergeLora()'s W + s·B·A", async () => {
  const f = await tinyFixture();
  const lora = new LoraAdapter(f.hooks, {
    r: 4,
    alpha: 12,
    useRslora: true,
    targetModules: ["all-linear"],
    seed: 2,
  });
  randomizeLora(lora, 31, 0.15);
  // A chunk smaller than the widths exercises the chunked identity.
  const got = await mergeAdapters(f.config, f.weights, [lora], { chunk: 7 });
  const want = mergeLora(f.weights, lora);
  let changed = 0;
  for (const [name, w] of want) {
    const g = got.get(name)!;
    assert.deepEqual(g.shape, w.shape, name);
    let err = 0;
    let scale = 0;
    for (let i = 0; i < w.data.length; i++) {
      err = Math.max(err, Math.abs(g.data[i] - w.data[i]));
      scale = Math.max(scale, Math.abs(w.data[i]));
    }
    assert.ok(err <= 1e-6 * Math.max(scale, 1), `${name}: ${err}`);
    if (g.data !== f.weights.get(name)!.data) changed++;
  }
  assert.equal(changed, 7 * f.config.numLayers);
});

Deno.test("core mergeAdapters() refuses an adapter whose delta is not linear in the input", async () => {
  const f = await tinyFixture();
  const hook = f.hooks[0];
  const squash: Adapter = {
    kind: "squash",
    targets: () => [hook.name],
    parameters: () => [],
    emit: (h, x, ops) => {
      const w = ops.constant(new Float32Array(h.inFeatures * h.outFeatures).fill(0.1), [
        h.inFeatures,
        h.outFeatures,
      ]);
      return (ops as unknown as { op1(o: string, i: string[]): string }).op1("Tanh", [
        (ops as unknown as { op1(o: string, i: string[]): string }).op1("MatMul", [x, w]),
      ]);
    },
    save: () => Promise.resolve(),
  };
  await assert.rejects(
    () => mergeAdapters(f.config, f.weights, [squash]),
    (e: Error) => errorCode(e) === "E_CONFIG" && /not linear/.test(e.message),
  );
});
