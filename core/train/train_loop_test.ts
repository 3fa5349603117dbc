import assert from "node:assert/strict";
import { join } from "node:path";
import { createTinyModel, tinyWeights } from "../model/tiny.ts";
import { loadTokenizer } from "../model/tokenizer.ts";
import type { NamedTensor } from "./adamw.ts";
import { parseChatData } from "./chat_data.ts";
import { tokenizeDataset, type TokenizedExample } from "./chat_tokenize.ts";
import { loraLike } from "./testing/lora_like.ts";
import { buildTrainGraph, type TrainGraph } from "./train_graph.ts";
import { trainLoop } from "./train_loop.ts";

interface Fixture {
  graph: TrainGraph;
  params: () => NamedTensor[];
  examples: TokenizedExample[];
  padId: number;
}

let fixture: Fixture | undefined;
async function setup(): Promise<Fixture> {
  if (fixture) return fixture;
  const dir = await Deno.makeTempDir({ prefix: "dramatis_train_" });
  const info = await createTinyModel(dir, { preset: "tiny-llama", seed: 1 });
  const tok = await loadTokenizer(dir);
  await Deno.remove(dir, { recursive: true });
  const lines = Array.from({ length: 10 }, (_, i) =>
    JSON.stringify({
      messages: [
        { role: "system", content: "You are a pirate." },
        { role: "user", content: `What is ${i} plus ${i}?${" Quick!".repeat(i % 3)}` },
        { role: "assistant", content: `Arr, ${i} plus ${i} be ${2 * i}, matey.` },
      ],
    }));
  const { conversations } = parseChatData(lines.join("\n"), "pirate.jsonl");
  const { examples } = tokenizeDataset(tok, conversations, { maxLength: 128 });
  const lora = loraLike({ rank: 8, seed: 2, scale: 2 });
  const graph = buildTrainGraph(info.config, tinyWeights(info.config, 1), { adapters: [lora] });
  const init = lora.parameters();
  fixture = {
    graph,
    params: () =>
      init.map((p) => ({ name: p.name, shape: p.shape, data: Float32Array.from(p.data) })),
    examples,
    padId: tok.padTokenId ?? 0,
  };
  return fixture;
}

Deno.test("trainLoop() overfits 8 chat examples on tiny-llama to loss < 0.1", async () => {
  const f = await setup();
  const data = f.examples.slice(0, 8);
  const r = await trainLoop(f.graph, f.params(), data, data, {
    steps: 60,
    lr: 1e-2,
    warmupSteps: 5,
    microBatchSize: 8,
    padTokenId: f.padId,
    progress: false,
  });
  assert.equal(r.steps, 60);
  assert.ok(r.losses[0] > 1, `first loss ${r.losses[0]}`);
  assert.ok(r.losses.at(-1)! < 0.1, `last loss ${r.losses.at(-1)}`);
  assert.ok(r.evalLoss! < 0.1, `eval loss ${r.evalLoss}`);
});

Deno.test("trainLoop() resumed from a checkpoint continues the identical loss curve", async () => {
  const f = await setup();
  const opts = {
    steps: 8,
    lr: 5e-3,
    warmupSteps: 2,
    decay: "cosine" as const,
    microBatchSize: 3,
    gradAccumulation: 2,
    weightDecay: 0.01,
    seed: 7,
    padTokenId: f.padId,
    progress: false,
    runner: "in-process" as const,
  };
  const dirA = await Deno.makeTempDir();
  const dirB = await Deno.makeTempDir();
  const full = await trainLoop(f.graph, f.params(), f.examples, undefined, {
    ...opts,
    out: dirA,
    checkpointEvery: 4,
  });
  const first = await trainLoop(f.graph, f.params(), f.examples, undefined, {
    ...opts,
    out: dirB,
    stopAfter: 3,
  });
  assert.equal(first.steps, 3);
  // A fresh process would start from the initial parameters; resume must overwrite them.
  const resumed = await trainLoop(f.graph, f.params(), f.examples, undefined, {
    ...opts,
    out: dirB,
    resume: true,
  });
  assert.equal(resumed.firstStep, 3);
  assert.deepEqual([...first.losses, ...resumed.losses], full.losses);
  const checkpoints = [...Deno.readDirSync(join(dirA, "checkpoints"))].map((e) => e.name).sort();
  assert.deepEqual(checkpoints, ["latest.json", "step-000004", "step-000008"]);
  const files = [...Deno.readDirSync(join(dirA, "checkpoints", "step-000008"))].map((e) => e.name)
    .sort();
  assert.deepEqual(files, ["adapter.safetensors", "optimizer.safetensors", "trainer_state.json"]);
  const metrics = (await Deno.readTextFile(join(dirB, "metrics.jsonl"))).trim().split("\n").map((
    l,
  ) => JSON.parse(l));
  assert.deepEqual(metrics.map((m) => m.step), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(metrics.map((m) => m.loss), full.losses);
  for (const k of ["lr", "gradNorm", "tokens", "tokensPerSecond", "elapsed"]) {
    assert.ok(k in metrics[0]);
  }
  await Deno.remove(dirA, { recursive: true });
  await Deno.remove(dirB, { recursive: true });
});

Deno.test("trainLoop() gradient accumulation equals one larger micro-batch (per-token mean)", async () => {
  const f = await setup();
  const run = async (microBatchSize: number, gradAccumulation: number) => {
    const out = await Deno.makeTempDir();
    const r = await trainLoop(f.graph, f.params(), f.examples.slice(0, 8), undefined, {
      steps: 1,
      microBatchSize,
      gradAccumulation,
      bucketing: false,
      maxGradNorm: 0,
      padTokenId: f.padId,
      progress: false,
      runner: "in-process",
      out,
    });
    const m = JSON.parse((await Deno.readTextFile(join(out, "metrics.jsonl"))).split("\n")[0]);
    await Deno.remove(out, { recursive: true });
    return { loss: r.losses[0], gradNorm: m.gradNorm as number, tokens: m.tokens as number };
  };
  const one = await run(4, 1);
  const two = await run(2, 2);
  assert.equal(one.tokens, two.tokens);
  assert.ok(Math.abs(one.loss - two.loss) < 1e-5 * one.loss, `${one.loss} vs ${two.loss}`);
  assert.ok(
    Math.abs(one.gradNorm - two.gradNorm) < 1e-4 * one.gradNorm,
    `${one.gradNorm} vs ${two.gradNorm}`,
  );
});

Deno.test("trainLoop() validates its options up front", async () => {
  const f = await setup();
  await assert.rejects(
    () =>
      trainLoop(f.graph, f.params(), f.examples, undefined, { microBatchSize: 0, progress: false }),
    /microBatchSize is 0; pass a whole number >= 1/,
  );
  await assert.rejects(
    () => trainLoop(f.graph, f.params(), f.examples, undefined, { lr: -1, progress: false }),
    /lr is -1/,
  );
  await assert.rejects(
    () => trainLoop(f.graph, [], f.examples, undefined, { progress: false }),
    /has no initial value; pass it in params/,
  );
});
