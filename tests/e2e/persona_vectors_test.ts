/**
 * End to end on tiny-llama: rollouts with a local model, judged by a local judge model served by
 * our own OpenAI-compatible server (top_logprobs scoring through the `openai` client), vectors
 * extracted, steered with, projected (finetuning shift against the base), one preventative-steering
 * LoRA run evaluated without steering, a sweep and a cosine heatmap; every artifact reloads.
 *
 * Thresholds are lowered to 0 (trait and coherence) because a random tiny model's answers carry
 * no trait signal: the filter keeps every pair whose four scores are non-null, which still
 * exercises the null rule. The judge is a tiny model whose number-token rows were rewritten so
 * numbers dominate its first token (testing/digit_judge_model.ts); the mass floor stays at 0.25.
 */

import { sharedTestCache } from "../test_cache.ts";
import { commandContext } from "../../core/services/plugin_context.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { LocalChatModel } from "../../core/chat/local_chat_model.ts";
import type { PluginCommand } from "../../core/contracts/plugin.ts";
import { parseArgs } from "../../core/host/args.ts";
import { startServer } from "../../core/host/server/serve.ts";
import { Engine } from "../../core/model/engine.ts";
import { createTinyModel } from "../../core/model/tiny.ts";
import { readDecoderConfig } from "../../core/model/config.ts";
import { loadLora } from "../../plugins/lora/load_lora.ts";
import { PERSONA_VECTORS_COMMANDS } from "../../plugins/persona_vectors/commands/mod.ts";
import { readRows } from "../../plugins/persona_vectors/rows_file.ts";
import { projectResponse } from "../../plugins/persona_vectors/project_response.ts";
import { steeringResolver } from "../../plugins/persona_vectors/steering_resolver.ts";
import { createDigitJudgeModel } from "../../plugins/persona_vectors/testing/digit_judge_model.ts";
import { readVectorFile } from "../../plugins/persona_vectors/vector_io.ts";

async function cli(name: string, argv: string[]): Promise<Record<string, unknown>> {
  const cmd = PERSONA_VECTORS_COMMANDS.find((c) => c.name === name) as PluginCommand;
  const args = parseArgs([...argv, "--json"], cmd.flags ?? {}, `persona_vectors ${name}`);
  const printed: string[] = [];
  const log = console.log;
  console.log = (...xs: unknown[]) => printed.push(xs.join(" "));
  const ctx = commandContext({ json: true });
  try {
    const status = await cmd.run(args, ctx);
    assert.equal(status ?? 0, 0, `${name} exit status`);
  } finally {
    console.log = log;
    await ctx.models.close();
  }
  return JSON.parse(printed.join("\n"));
}

Deno.test("persona_vectors end to end on tiny-llama: rollouts, served judge, extract, steer, project, preventative training", async () => {
  const root = await Deno.makeTempDir({ prefix: "pv_e2e_" });
  sharedTestCache();
  const model = join(root, "model");
  const judgeDir = join(root, "judge");
  const out = join(root, "run");
  let server: ReturnType<typeof startServer> | undefined;
  let judgeEngine: Engine | undefined;
  try {
    await createTinyModel(model, { preset: "tiny-llama", seed: 4 });
    await createDigitJudgeModel(judgeDir, join(root, "cache", "graphs"));
    judgeEngine = await Engine.load(judgeDir, { threads: 1 });
    const judgeChat = new LocalChatModel(judgeEngine, { id: "judge", steering: steeringResolver });
    server = startServer({
      port: 0,
      resolve: (name) => (name === "judge" ? judgeChat : undefined),
      listModels: () => [{ id: "judge" }],
    });
    const judgeUrl = `${server.url}/v1`;

    // B2: rollouts with pos/neg system prompts (2 questions × 2 instructions × 2 samples).
    const r = await cli("rollouts", [
      "--trait",
      "optimistic",
      "--model",
      model,
      "--questions",
      "2",
      "--instructions",
      "2",
      "--n-per-question",
      "2",
      "--max-tokens",
      "6",
      "--threads",
      "1",
      "--out",
      out,
    ]);
    const files = r.files as { pos: string; neg: string };
    assert.equal(r.rows, 8);

    // B3: judged through our server by the local judge model; nulls are counted.
    const j = await cli("judge", [
      "--trait",
      "optimistic",
      "--in",
      files.pos,
      "--in",
      files.neg,
      "--judge-base-url",
      judgeUrl,
      "--judge-api-model",
      "judge",
    ]);
    const judged = j.files as { rows: number; traitNulls: number; coherenceNulls: number }[];
    assert.equal(judged.length, 2);
    const pos = (await readRows(files.pos, "optimistic")).rows;
    const neg = (await readRows(files.neg, "optimistic")).rows;
    const nulls = [...pos, ...neg].filter((x) => x.trait === null).length;
    assert.equal(nulls, judged[0].traitNulls + judged[1].traitNulls);
    assert.ok(
      pos.some((x) => x.trait !== null && x.coherence !== null),
      "some verdicts are numbers",
    );
    assert.ok(
      pos.every((x) => x.prompt.includes("optimistic assistant")),
      "prompt column is the template",
    );

    // B4: extraction with thresholds lowered for a random tiny model.
    const e = await cli("extract", [
      "--model",
      model,
      "--trait",
      "optimistic",
      "--pos",
      files.pos,
      "--neg",
      files.neg,
      "--threshold",
      "0",
      "--coherence-threshold",
      "0",
      "--threads",
      "1",
      "--out",
      join(out, "vectors"),
    ]);
    const vfiles = e.files as Record<string, string>;
    const config = await readDecoderConfig(model);
    for (const type of ["prompt_avg", "response_avg", "prompt_last"]) {
      const { vector, metadata } = await readVectorFile(vfiles[type]);
      assert.deepEqual([vector.rows, vector.cols], [config.numLayers + 1, config.hiddenSize]);
      assert.equal(metadata.type, type);
      assert.equal(metadata.trait, "optimistic");
      assert.match(metadata.layer_convention, /hf_hidden_states/);
    }
    assert.ok((e.kept as number) >= 1);

    // B5: steering changes the reply; the steer file reloads.
    const vec = vfiles.response_avg;
    const s = await cli("steer", [
      "--model",
      model,
      "--prompt",
      "Tell me about tomorrow.",
      "--steer",
      `${vec}:40:1:all`,
      "--max-tokens",
      "6",
      "--threads",
      "1",
      "--out",
      join(out, "steer.json"),
    ]);
    const steered = JSON.parse(await Deno.readTextFile(join(out, "steer.json")));
    assert.equal(steered.results.length, 1);
    assert.equal((s.results as unknown[]).length, 1);

    // B8: one preventative-steering LoRA run, then an evaluation without steering.
    const data = join(root, "train.jsonl");
    await Deno.writeTextFile(
      data,
      ["Hi", "How are you?", "Plans?", "Weather?"].map((q) =>
        JSON.stringify({
          messages: [{ role: "user", content: q }, { role: "assistant", content: "It is fine." }],
        })
      ).join("\n") + "\n",
    );
    const t = await cli("train-preventative", [
      "--model",
      model,
      "--data",
      data,
      "--vector",
      vec,
      "--coefficient",
      "2",
      "--layers",
      "1",
      "--steps",
      "2",
      "--config",
      '{"batch_size": 2, "gradient_accumulation_steps": 1, "r": 4, "lora_alpha": 8, "eval_split": 0}',
      "--prompt",
      "Hello there",
      "--max-tokens",
      "4",
      "--threads",
      "1",
      "--out",
      join(out, "prevent"),
    ]);
    const adapterDir = t.adapter as string;
    const lora = await loadLora(adapterDir, config);
    assert.ok(lora.modules().length > 0);
    const summary = JSON.parse(await Deno.readTextFile(join(out, "prevent", "preventative.json")));
    assert.deepEqual(summary.steering[0], { vector: vec, coefficient: 2, layer: 1, type: "steer" });
    assert.ok(Number.isFinite(summary.evaluation.trained.meanProj));

    // B6: projections and the finetuning shift of the trained adapter against the base model.
    const p = await cli("project", [
      "--model",
      model,
      "--adapter",
      adapterDir,
      "--base-model",
      model,
      "--vector",
      vec,
      "--layer",
      "1",
      "--in",
      files.pos,
      "--threads",
      "1",
      "--out",
      join(out, "projected"),
    ]);
    const pf = (p.files as { out: string; finetuningShift: Record<string, number> }[])[0];
    const projected = await readRows(pf.out, "optimistic");
    const cols = Object.keys(projected.rows[0].extra ?? {});
    for (const k of ["proj", "prompt_last_proj", "prompt_avg_proj", "cos_sim"]) {
      assert.ok(cols.some((c) => c.endsWith(`_${k}_layer1`)), `${k} column in ${cols.join(", ")}`);
    }
    assert.ok(cols.some((c) => c.endsWith("_finetuning_shift")));
    assert.ok(Object.values(pf.finetuningShift).every(Number.isFinite));

    // Per-response monitoring as the server would call it.
    const engine = await Engine.load(model, { threads: 1 });
    try {
      const v = (await readVectorFile(vec)).vector;
      const mon = await projectResponse(engine, [{ role: "user", content: "Hi" }], "Sunny days!", {
        optimistic: v,
      }, 1);
      assert.ok(Number.isFinite(mon.optimistic));
    } finally {
      await engine.close();
    }

    // B9: a tiny sweep and a cosine heatmap, as SVG files.
    const sw = await cli("sweep", [
      "--model",
      model,
      "--trait",
      "optimistic",
      "--vector",
      vec,
      "--layers",
      "1,2",
      "--coefficients",
      "0,8",
      "--questions",
      "1",
      "--max-tokens",
      "4",
      "--threads",
      "1",
      "--judge-base-url",
      judgeUrl,
      "--judge-api-model",
      "judge",
      "--out",
      join(out, "sweep"),
    ]);
    const cos = await cli("cosine", [
      "--vector",
      `response=${vec}`,
      "--vector",
      `prompt=${vfiles.prompt_avg}`,
      "--vector",
      `last=${vfiles.prompt_last}`,
      "--out",
      join(out, "geometry"),
    ]);
    for (
      const img of [
        ...Object.values(sw.images as Record<string, string>),
        ...Object.values(sw.lines as Record<string, string>),
        ...(cos.images as string[]),
      ]
    ) {
      assert.match(await Deno.readTextFile(img), /^<svg/);
    }
    const cj = JSON.parse(await Deno.readTextFile(join(out, "geometry", "cosine.json")));
    assert.equal(cj.layers.length, config.numLayers + 1);
    assert.ok(Math.abs(cj.layers[1].matrix[0][0] - 1) < 1e-6);
  } finally {
    await server?.shutdown();
    await judgeEngine?.close();
    await Deno.remove(root, { recursive: true });
  }
});
