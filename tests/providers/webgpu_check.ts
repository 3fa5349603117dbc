/**
 * Runs one tiny model on the webgpu provider and on the CPU and prints what both gave, as one
 * JSON line: `deno run -A tests/providers/webgpu_check.ts`. `webgpu_test.ts` runs it in a child
 * process, so a driver that crashes cannot take the test runner down with it. Prints
 * `{"available": false, "reason": ...}` where no WebGPU adapter opens.
 *
 * @module
 */

import { join } from "node:path";
import { Engine } from "../../core/model/engine.ts";
import { createTinyModel } from "../../core/model/tiny.ts";
import { readDecoderConfig } from "../../core/model/config.ts";
import { LoraAdapter } from "../../plugins/lora/lora_adapter.ts";
import { randomizeParameters } from "../../core/model/testing/adapters.ts";

const root = await Deno.makeTempDir({ prefix: "dramatis_webgpu_" });
try {
  const model = join(root, "m");
  await createTinyModel(model, { preset: "tiny-llama", seed: 2 });
  const config = await readDecoderConfig(model);
  const lora = LoraAdapter.forConfig(config, { r: 2 });
  randomizeParameters(lora, 9);
  const vector = Float32Array.from({ length: config.hiddenSize }, (_, i) => Math.sin(i));
  const edits = [
    { block: 0, type: "add" as const, vector, coefficient: 1.5, positions: "all" as const },
  ];
  const ids = [[5, 9, 12, 40, 7, 3], [8, 2, 11]];
  const runs: Record<string, unknown> = {};
  for (
    const [name, provider, compute] of [
      ["cpu", "cpu", "f32"],
      ["webgpu", "webgpu", "f32"],
      ["webgpu_f16", "webgpu", "f16"],
    ] as const
  ) {
    let engine: Engine;
    try {
      engine = await Engine.load(model, {
        provider,
        compute,
        dtype: "f16",
        adapters: [lora],
        steering: true,
        threads: 1,
        cacheDir: join(root, "cache"),
      });
    } catch (e) {
      if (provider === "webgpu") {
        console.log(JSON.stringify({ available: false, reason: (e as Error).message }));
        Deno.exit(0);
      }
      throw e;
    }
    const forward = await engine.forward(ids, { edits });
    const greedy = await engine.generate("Hello there", { maxNewTokens: 8, edits });
    runs[name] = {
      provider: engine.session.provider,
      logits: Array.from(forward.logits.data as Float32Array),
      dims: forward.logits.dims,
      tokens: greedy.completions[0].tokens,
    };
    await engine.close();
  }
  console.log(JSON.stringify({ available: true, runs }));
} finally {
  await Deno.remove(root, { recursive: true });
}
