import assert from "node:assert/strict";
import { pluginContext } from "../../core/services/plugin_context.ts";
import { join } from "node:path";
import { parseSteerFlags } from "./commands/common.ts";
import { classifyCosine } from "./geometry.ts";
import { expectedScore, score0to100 } from "./judge_scoring.ts";
import { localNumberJudge } from "./local_judge.ts";
import { personaVectors, preventativeTrainer } from "./plugin.ts";
import { PersonaVectorsOptionsSchema } from "./options.ts";
import { createSteeringResolver } from "./steering_resolver.ts";
import { judgeInputOf } from "./trait_judge.ts";
import { loadVectorFile, registerVector, saveVectorFile, unregisterVector } from "./vector_io.ts";

Deno.test("personaVectors().create() gives trait, coherence and per-trait judges, a steerer and a trainer", async () => {
  const roles = await personaVectors().create(
    PersonaVectorsOptionsSchema.parse({ layer: 2 }),
    pluginContext("persona_vectors"),
  );
  assert.deepEqual(Object.keys(roles.judges!).slice(0, 3), ["trait", "coherence", "optimistic"]);
  assert.equal(roles.judges!.trait.name, "optimistic");
  registerVector("pv_test", { rows: 3, cols: 2, data: new Float32Array([0, 0, 0, 0, 1, 2]) });
  try {
    const steerer = await roles.steerers!.persona_vectors({ vector: "pv_test" });
    const edits = await steerer.resolve({
      numLayers: 2,
      hiddenSize: 2,
      loadVector: loadVectorFile,
    });
    // Options fill in layer 2 (block 1), coefficient 2 and response positions.
    assert.deepEqual(edits.map((e) => [e.block, e.coefficient, e.positions, [...e.vector]]), [
      [1, 2, "response", [1, 2]],
    ]);
  } finally {
    unregisterVector("pv_test");
  }
  assert.ok(roles.trainers!.preventative);
  await assert.rejects(
    () =>
      preventativeTrainer(PersonaVectorsOptionsSchema.parse({})).train({
        model: "m",
        data: "d",
        out: "o",
      }),
    /config.vector/,
  );
});

Deno.test("createSteeringResolver() reloads a vector file when it changes and merges same-block adds", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const p = join(dir, "v.safetensors");
    const meta = {
      model: "m",
      trait: "t",
      type: "response_avg",
      n_pos: 1,
      n_neg: 1,
      threshold: 50,
    };
    await saveVectorFile(p, { rows: 2, cols: 2, data: new Float32Array([0, 0, 1, 0]) }, meta);
    const resolve = createSteeringResolver();
    const model = { numLayers: 1, hiddenSize: 2 };
    const a = await resolve([{ vector: p, coefficient: 2, layer: 1 }, {
      vector: p,
      coefficient: 1,
      layer: 1,
    }], model);
    assert.deepEqual([...a[0].vector], [3, 0]);
    await new Promise((r) => setTimeout(r, 20));
    await saveVectorFile(p, {
      rows: 2,
      cols: 2,
      data: new Float32Array([0, 0, 0, 5, 9, 9]).slice(0, 4),
    }, meta);
    const b = await resolve([{ vector: p, coefficient: 1, layer: 1 }], model);
    assert.deepEqual([...b[0].vector], [0, 5]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("expectedScore() is null with zero numeric mass even when the floor is 0", () => {
  assert.equal(expectedScore([], 0).score, null);
  assert.equal(score0to100([{ token: "hello", logprob: 0 }], 0).score, null);
  assert.equal(score0to100([{ token: "40", logprob: Math.log(0.1) }], 0).score, 40);
});

Deno.test("localNumberJudge() scores numbers as token sequences, digit by digit", async () => {
  // A toy tokenizer that splits digits (as Qwen and Llama-2 do): id d spells digit d, id 10 is
  // "x" (any other text), id 11 the end of the prompt. The "model" answers 8 then 5 then stops,
  // with some mass on stopping after the 8 and on a non-number.
  const tokenizer = {
    vocabSize: 12,
    applyChatTemplate: () => "P",
    encode: (s: string) => [...s].map((c) => (c === "P" ? 11 : /\d/.test(c) ? Number(c) : 10)),
    idToToken: (id: number) => (id < 10 ? String(id) : id === 10 ? "x" : "P"),
  };
  const dist = (pairs: [number, number][]) => {
    const l = new Float32Array(12).fill(-1e9);
    for (const [id, p] of pairs) l[id] = Math.log(p);
    return l;
  };
  const after: Record<string, Float32Array> = {
    "11": dist([[8, 0.7], [10, 0.3]]),
    "11,8": dist([[5, 0.6], [10, 0.4]]),
    "11,8,5": dist([[10, 1]]),
  };
  const calls: number[][][] = [];
  const engine = {
    tokenizer,
    generate: (
      input: { inputIds: number[][] },
      o: {
        maxNewTokens?: number;
        observeLogits?: (prompt: number, index: number, logits: Float32Array) => void;
      },
    ) => {
      const rows = input.inputIds;
      calls.push(rows);
      assert.equal(o.maxNewTokens, 1);
      rows.forEach((r, b) => o.observeLogits!(b, 0, after[r.join()] ?? dist([[10, 1]])));
      const promptTokens = rows.reduce((n, r) => n + r.length, 0);
      return Promise.resolve({ stats: { promptTokens, reusedPromptTokens: 0 } });
    },
  };
  const judge = localNumberJudge({
    name: "t",
    template: "{question} {answer}",
    engine: engine as never,
  });
  const v = await judge.judge({ prompt: "q", response: "a" }, {});
  // P(85) = 0.7·0.6·1 = 0.42, P(8) = 0.7·0.4 = 0.28 (it ends: "x" follows); mass 0.70.
  const want = (85 * 0.42 + 8 * 0.28) / 0.7;
  assert.ok(Math.abs(v.value!.score - want) < 1e-4, `${v.value!.score} vs ${want}`);
  assert.ok(Math.abs(v.value!.mass - 0.7) < 1e-5);
  // Only prefixes with probability are expanded: the prompt, "8", "85", and " " (the toy
  // tokenizer spells the space of " 85" as "x", which has mass 0.3).
  assert.deepEqual(calls.flat().map((r) => r.join()).sort(), ["11", "11,10", "11,8", "11,8,5"]);
  const strict = localNumberJudge({
    name: "t",
    template: "{answer}",
    engine: engine as never,
    minMass: 0.9,
  });
  const n = await strict.judge({ question: "q", answer: "a" }, {});
  assert.equal(n.value, null);
  assert.equal(strict.stats.nulls, 1);
});

Deno.test("judgeInputOf() accepts {question, answer} and {prompt, response}", () => {
  assert.deepEqual(judgeInputOf({ question: "q", answer: "a" }), { question: "q", answer: "a" });
  assert.deepEqual(judgeInputOf({ prompt: "q", response: "a" }), { question: "q", answer: "a" });
  assert.throws(() => judgeInputOf({} as never), /question, answer/);
});

Deno.test("parseSteerFlags() reads vector:coefficient:layer:positions:type", () => {
  assert.deepEqual(parseSteerFlags(["runs/a:b.safetensors:-1.5:20:all:ablate", "v.st:2:3"]), [
    {
      vector: "runs/a:b.safetensors",
      coefficient: -1.5,
      layer: 20,
      positions: "all",
      type: "ablate",
    },
    { vector: "v.st", coefficient: 2, layer: 3, positions: "response", type: "add" },
  ]);
  assert.throws(() => parseSteerFlags(["v.st"]), /must look like/);
});

Deno.test("classifyCosine() takes the option thresholds", () => {
  assert.equal(classifyCosine(0.35), "related");
  assert.equal(classifyCosine(0.35, { orthogonalBelow: 0.4 }), "orthogonal");
  assert.equal(classifyCosine(-0.45, { oppositeBelow: -0.4 }), "opposite");
});
