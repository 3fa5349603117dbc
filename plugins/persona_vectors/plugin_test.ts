import assert from "node:assert/strict";
import { pluginContext } from "../../core/services/plugin_context.ts";
import { join } from "node:path";
import { parseSteerFlags } from "./commands/common.ts";
import { classifyCosine } from "./geometry.ts";
import { expectedScore, score0to100 } from "./judge_scoring.ts";
import { localNumberJudge, numberTokenIds } from "./local_judge.ts";
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

Deno.test("localNumberJudge() restricts the judge's next-token distribution to number tokens", async () => {
  // Vocabulary: id k spells the number k for k = 0..9, id 10 is "x".
  const tokenizer = {
    encode: (s: string) => (/^\d$/.test(s) ? [Number(s)] : s.split("").map(() => 10)),
  };
  const logits = new Float32Array(11);
  logits[2] = Math.log(3);
  logits[8] = Math.log(1);
  logits[10] = Math.log(4); // half the mass on a non-number
  const engine = {
    tokenizer,
    encode: () => [[1, 2]],
    forward: () =>
      Promise.resolve({
        logits: {
          dtype: "float32",
          dims: [1, 2, 11],
          data: new Float32Array([...new Float32Array(11), ...logits]),
        },
      }),
  };
  const ids = numberTokenIds(tokenizer);
  assert.deepEqual(ids.slice(0, 11), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1]);
  const judge = localNumberJudge({
    name: "t",
    template: "{question} {answer}",
    engine: engine as never,
  });
  const v = await judge.judge({ prompt: "q", response: "a" }, {});
  // Unnormalised: 3 for "2", 1 for "8", 4 for "x", and exp(0) = 1 for each of the 8 other digits.
  const z = 3 + 1 + 4 + 8;
  const want = (2 * 3 + 8 * 1 + (0 + 1 + 3 + 4 + 5 + 6 + 7 + 9) * 1) / (z - 4);
  assert.ok(Math.abs(v.value!.score - want) < 1e-5, `${v.value!.score} vs ${want}`);
  assert.ok(Math.abs(v.value!.mass - (z - 4) / z) < 1e-6);
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
