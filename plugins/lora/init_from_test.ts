import { writeYesIndeedChats } from "./testing/fixtures.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readDecoderConfig } from "../../core/model/config.ts";
import { createTinyModel } from "../../core/model/tiny.ts";
import { loadLora } from "./load_lora.ts";
import { createLoraTrainer } from "./trainer.ts";

Deno.test("lora trainer init_from starts from a trained adapter's values (sequential finetuning)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lora_init_from_" });
  try {
    const model = join(dir, "model");
    await createTinyModel(model, { preset: "tiny-llama", seed: 5 });
    const config = await readDecoderConfig(model);
    const data = await writeYesIndeedChats(join(dir, "d.jsonl"));
    const trainer = createLoraTrainer({ progress: false, runner: "in-process" });
    const base = { batch_size: 2, eval_split: 0, threads: 1, r: 4, lora_alpha: 8 };
    const a = join(dir, "a");
    await trainer.train({
      model,
      data,
      out: a,
      config: { ...base, steps: 3, learning_rate: 0.05 },
    });
    // Continue with a learning rate so small the values cannot move: B must equal A.
    const b = join(dir, "b");
    const frozen = { ...base, steps: 1, learning_rate: 1e-30, r: 2, lora_alpha: 2 };
    const events: string[] = [];
    await trainer.train({
      model,
      data,
      out: b,
      config: { ...frozen, init_from: a },
      onEvent: (e) => e.type === "log" && events.push(e.message),
    });
    const la = await loadLora(a, config);
    const lb = await loadLora(b, config);
    assert.equal(lb.options.r, 4, "the loaded adapter's r wins over the config's");
    assert.ok(events.some((m) => m.includes(`starting from the adapter in ${a}`)));
    const pa = la.parameters();
    const pb = lb.parameters();
    assert.deepEqual(pb.map((p) => p.name), pa.map((p) => p.name));
    for (const [i, p] of pa.entries()) {
      for (let j = 0; j < p.data.length; j++) {
        assert.ok(Math.abs(p.data[j] - pb[i].data[j]) < 1e-6, `${p.name}[${j}]`);
      }
    }
    // A trained: its B matrices left zero; without init_from B would start at zero again.
    const fresh = join(dir, "fresh");
    await trainer.train({
      model,
      data,
      out: fresh,
      config: { ...base, steps: 1, learning_rate: 1e-30 },
    });
    const lf = await loadLora(fresh, config);
    const bSum = (l: typeof lf) =>
      l.modules().reduce((s, m) => s + m.B.reduce((t, x) => t + Math.abs(x), 0), 0);
    assert.ok(bSum(la) > 0 && bSum(lf) < 1e-12, `${bSum(la)} vs ${bSum(lf)}`);
    await assert.rejects(
      trainer.train({
        model,
        data,
        out: join(dir, "x"),
        config: { ...base, trainable: "all", init_from: a },
      }),
      /init_from .* trainable is "all"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
