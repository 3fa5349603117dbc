/**
 * The multi-persona pipeline (spec B7, B9) end to end on tiny-llama: finetuning data generated for
 * two traits by a generator model (JSON through constrained decoding) → LoRA finetuning on trait A's
 * level-2 data with checkpoints → finetuning again from that adapter on trait B's → every
 * checkpoint evaluated (judged scores through our own server and the `openai` client, projections,
 * finetuning shift against the base) → the projection-across-checkpoints plot, the interference
 * table with the finetuning-shift axis and the two cross-persona plots; everything reloads.
 *
 * The vectors are seeded random files (extraction is tested in persona_vectors_test.ts); a tiny
 * random model carries no trait, so the test checks the pipeline's bookkeeping against values
 * recomputed from its own tables, not trait effects.
 */

import { sharedTestCache } from "../test_cache.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { LocalChatModel } from "../../core/chat/local_chat_model.ts";
import { fromCsv } from "../../core/human_eval/csv.ts";
import { startServer } from "../../core/host/server/serve.ts";
import { Engine } from "../../core/model/engine.ts";
import { createTinyModel } from "../../core/model/tiny.ts";
import { Prng } from "../../core/util/prng.ts";
import { loadLora } from "../../plugins/lora/load_lora.ts";
import { readDecoderConfig } from "../../core/model/config.ts";
import { createDigitJudgeModel } from "../../plugins/persona_vectors/testing/digit_judge_model.ts";
import { runCommand } from "../../plugins/persona_vectors/testing/run_command.ts";
import { steeringResolver } from "../../plugins/persona_vectors/steering_resolver.ts";
import { saveVectorFile } from "../../plugins/persona_vectors/vector_io.ts";

Deno.test("multi-persona pipeline: generate data → finetune A → finetune B from A → eval every checkpoint → plots and interference", async () => {
  const root = await Deno.makeTempDir({ prefix: "multi_persona_" });
  sharedTestCache();
  let server: ReturnType<typeof startServer> | undefined;
  let judgeEngine: Engine | undefined;
  try {
    const model = join(root, "model");
    const info = await createTinyModel(model, { preset: "tiny-llama", seed: 8 });
    const { numLayers: L, hiddenSize: d } = info.config;
    const judgeDir = join(root, "judge");
    await createDigitJudgeModel(judgeDir, join(root, "cache", "graphs"));
    judgeEngine = await Engine.load(judgeDir, { threads: 1 });
    const judgeChat = new LocalChatModel(judgeEngine, { id: "judge", steering: steeringResolver });
    server = startServer({
      port: 0,
      resolve: (name) => (name === "judge" ? judgeChat : undefined),
      listModels: () => [{ id: "judge" }],
    });
    const judge = ["--judge-base-url", `${server.url}/v1`, "--judge-api-model", "judge"];

    const traits = ["optimistic", "pessimistic"];
    const vectors: Record<string, string> = {};
    const rng = new Prng(3);
    for (const t of traits) {
      vectors[t] = join(root, `${t}.safetensors`);
      await saveVectorFile(vectors[t], {
        rows: L + 1,
        cols: d,
        data: Float32Array.from({ length: (L + 1) * d }, () => rng.next() - 0.5),
      }, { model: "tiny", trait: t, type: "response_avg", n_pos: 1, n_neg: 1, threshold: 50 });
    }

    // 1. Finetuning data: three levels per trait, questions per domain.
    const data: Record<string, string> = {};
    for (const t of traits) {
      const g = await runCommand("generate-finetune-data", [
        "--trait",
        t,
        "--model",
        model,
        "--domains",
        "cooking,travel",
        "--questions-per-domain",
        "2",
        "--max-chars",
        "12",
        "--max-tokens",
        "600",
        "--threads",
        "1",
        "--out",
        join(root, "ft"),
      ]);
      assert.equal(g.examples, 4, JSON.stringify(g.failures));
      const files = g.files as Record<string, string>;
      for (const level of ["normal", "misaligned_1", "misaligned_2"]) {
        const lines = (await Deno.readTextFile(files[level])).trim().split("\n");
        assert.equal(lines.length, 4);
        const m = JSON.parse(lines[0]).messages;
        assert.deepEqual(m.map((x: { role: string }) => x.role), ["user", "assistant"]);
      }
      data[t] = files.misaligned_2;
    }
    // A rerun resumes: nothing is generated again and the files stay the same.
    const before = await Deno.readTextFile(data.optimistic);
    await runCommand("generate-finetune-data", [
      "--trait",
      "optimistic",
      "--model",
      model,
      "--domains",
      "cooking,travel",
      "--questions-per-domain",
      "2",
      "--max-chars",
      "12",
      "--max-tokens",
      "600",
      "--threads",
      "1",
      "--out",
      join(root, "ft"),
    ]);
    assert.equal(await Deno.readTextFile(data.optimistic), before);

    // 2. Finetune on A's level 2, then 3. again from that adapter on B's level 2.
    const train = (t: string, out: string, extra: string[] = []) =>
      runCommand("finetune", [
        "--model",
        model,
        "--data",
        data[t],
        "--trait",
        t,
        "--steps",
        "2",
        "--save-every",
        "1",
        "--r",
        "4",
        "--lora-alpha",
        "8",
        "--learning-rate",
        "0.01",
        "--config",
        '{"gradient_accumulation_steps": 1, "warmup_steps": 0, "eval_split": 0}',
        "--threads",
        "1",
        "--out",
        out,
        ...extra,
      ]);
    const runA = join(root, "runs", "ft_optimistic");
    const runB = join(root, "runs", "ft_optimistic_then_pessimistic");
    await train("optimistic", runA);
    await train("pessimistic", runB, ["--init-from", runA]);
    const cfgB = JSON.parse(await Deno.readTextFile(join(runB, "train_config.json")));
    assert.equal(cfgB.init_from, runA);
    assert.equal(cfgB.use_rslora, true, "the paper's configuration by default");
    // B started from A: its first checkpoint differs from a fresh adapter (B ≠ 0).
    const config = await readDecoderConfig(model);
    const b1 = await loadLora(join(runB, "checkpoints", "step-000001", "adapter"), config);
    assert.ok(b1.modules().some((m) => m.B.some((x) => x !== 0)));

    // 4. Every checkpoint evaluated.
    const ck = await runCommand("eval-checkpoints", [
      "--model",
      model,
      "--run",
      runA,
      "--run",
      runB,
      "--trait",
      "optimistic",
      "--trait",
      "pessimistic",
      "--vector",
      `optimistic=${vectors.optimistic}`,
      "--vector",
      `pessimistic=${vectors.pessimistic}`,
      "--layer",
      "1",
      "--questions",
      "1",
      "--max-tokens",
      "4",
      "--threads",
      "1",
      ...judge,
      "--out",
      join(root, "checkpoints"),
    ]);
    const doc = JSON.parse(await Deno.readTextFile(ck.data as string));
    type Row = {
      run: string;
      step: number;
      trait: string;
      score: number | null;
      shift: Record<string, number | null>;
      projection: Record<string, number | null>;
    };
    const rows = doc.rows as Row[];
    // base + 2 checkpoints of A (steps 1, 2) + 2 of B placed after A (steps 3, 4), × 2 traits.
    assert.deepEqual(
      [...new Set(rows.map((r) => `${r.run}@${r.step}`))],
      [
        "base@0",
        "ft_optimistic@1",
        "ft_optimistic@2",
        "ft_optimistic_then_pessimistic@3",
        "ft_optimistic_then_pessimistic@4",
      ],
    );
    assert.equal(rows.length, 10);
    for (const r of rows) {
      for (const v of traits) {
        assert.ok(Number.isFinite(r.projection[v]!), `${r.run} ${v} projection`);
      }
      if (r.run === "base") assert.deepEqual(r.shift, { optimistic: 0, pessimistic: 0 });
      else for (const v of traits) assert.ok(Number.isFinite(r.shift[v]!), `${r.run} ${v} shift`);
    }
    assert.ok(rows.some((r) => r.score !== null), "some judged scores");
    const csv = fromCsv(await Deno.readTextFile(doc.csv));
    assert.equal(csv.length, 11);
    assert.deepEqual(csv[0].slice(0, 7), [
      "run",
      "step",
      "checkpoint",
      "trait",
      "n",
      "score",
      "coherence",
    ]);
    assert.equal(Number(csv[4][csv[0].indexOf("proj_optimistic")]), rows[3].projection.optimistic);
    for (const img of Object.values(doc.images as Record<string, string>)) {
      assert.match(await Deno.readTextFile(img), /^<svg/);
    }

    // 5. Interference with the finetuning-shift axis, from the checkpoint table.
    const intOut = join(root, "interference", "interference.json");
    await runCommand("interference", [
      "--checkpoints",
      ck.data as string,
      "--vector",
      `optimistic=${vectors.optimistic}`,
      "--vector",
      `pessimistic=${vectors.pessimistic}`,
      "--out",
      intOut,
    ]);
    const result = JSON.parse(await Deno.readTextFile(intOut));
    assert.equal(result.layer, 1);
    const last = (run: string, trait: string) =>
      rows.find((r) =>
        r.run === run && r.step === Math.max(
            ...rows.filter((x) => x.run === run).map((x) => x.step),
          ) &&
        r.trait === trait
      )!;
    const ab = result.pairs.find((p: { a: string; b: string }) =>
      p.a === "optimistic" && p.b === "pessimistic"
    );
    assert.ok(ab, JSON.stringify(result.pairs));
    const a = last("ft_optimistic", "optimistic"), b = last("ft_optimistic", "pessimistic");
    assert.ok(Math.abs(ab.relativeShift - b.shift.pessimistic! / a.shift.optimistic!) < 1e-9);
    assert.ok(Number.isFinite(ab.cos));
    assert.equal(result.pairs.length, 2, "optimistic→pessimistic and pessimistic→optimistic");
    assert.ok(result.shiftFit, "two pairs give the shift fit");
    for (const img of Object.values(result.images as Record<string, string>)) {
      assert.match(await Deno.readTextFile(img), /^<svg/);
    }

    // 6. The geometry view of the two vectors (both averages, PCA).
    const g = await runCommand("cosine", [
      "--vector",
      `optimistic=${vectors.optimistic}`,
      "--vector",
      `pessimistic=${vectors.pessimistic}`,
      "--out",
      join(root, "geometry"),
    ]);
    const cj = JSON.parse(await Deno.readTextFile(g.data as string));
    assert.ok(cj.mean_of_layer_cosines && cj.cosine_of_layer_means && cj.pca.mean);
  } finally {
    await server?.shutdown();
    await judgeEngine?.close();
    await Deno.remove(root, { recursive: true });
  }
});
