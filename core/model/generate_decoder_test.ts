/**
 * generate() and forwardPass() on a real exported decoder (GQA, attention bias, tied embeddings,
 * seeded random weights), checked against full recompute and the float64 reference forward.
 */
import assert from "node:assert/strict";
import type { ResidualEdit } from "../contracts/steerer.ts";
import { OrtSession } from "../runtime/session.ts";
import { Prng } from "../util/prng.ts";
import { type DecoderConfig, parseDecoderConfig } from "./config.ts";
import type { DecoderWeightMap } from "./decoder_graph.ts";
import { exportDecoder } from "./export.ts";
import { type DecoderModel, forwardPass, generate } from "./generate.ts";
import { greedy, logSoftmax } from "./sampling.ts";
import { referenceForward } from "./testing/reference.ts";
import { expectedWeightShapes } from "./weights.ts";

const CONFIG = parseDecoderConfig({
  model_type: "qwen2",
  architectures: ["Qwen2ForCausalLM"],
  vocab_size: 53,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 3,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  max_position_embeddings: 256,
  tie_word_embeddings: true,
  eos_token_id: 52,
}, "test config");

function randomWeights(c: DecoderConfig, seed: number): DecoderWeightMap {
  const r = new Prng(seed);
  const out: DecoderWeightMap = new Map();
  for (const [name, shape] of expectedWeightShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const norm = name.endsWith("norm.weight");
    out.set(name, {
      shape,
      data: Float32Array.from(
        { length: n },
        () => (norm ? 1 + 0.1 * r.normal() : 0.4 * r.normal()),
      ),
    });
  }
  return out;
}

interface Fixture {
  model: DecoderModel;
  weights: DecoderWeightMap;
  close(): Promise<void>;
}

async function fixture(steering: boolean): Promise<Fixture> {
  const dir = await Deno.makeTempDir({ prefix: "dramatis_gen_dec_" });
  const weights = randomWeights(CONFIG, 5);
  const { modelPath } = await exportDecoder(CONFIG, weights, dir, { steering });
  const session = await OrtSession.create(modelPath, { intraOpThreads: 1 });
  const model: DecoderModel = {
    session,
    shape: { numLayers: 3, numKvHeads: 2, headDim: 4, hiddenSize: 16 },
    eosTokenIds: [], // never stop early: every test runs to maxNewTokens
    padTokenId: 0,
    decode: (ids) => ids.map((i) => String.fromCharCode(65 + i)).join(""),
  };
  return {
    model,
    weights,
    close: async () => {
      await session.release();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function lastLogits(r: { logits: { dims: number[]; data: unknown } }, row: number): Float32Array {
  const [, S, V] = r.logits.dims;
  return (r.logits.data as Float32Array).slice((row * S + S - 1) * V, (row * S + S) * V);
}

Deno.test("generate() with the KV cache equals greedy full recompute token by token, logprobs included", async () => {
  const f = await fixture(false);
  try {
    const prompt = [3, 17, 40, 8, 21];
    const r = await generate(f.model, [prompt], { maxNewTokens: 10, logprobs: true });
    const c = r.completions[0];
    assert.equal(c.tokens.length, 10);
    for (let k = 0; k < c.tokens.length; k++) {
      const full = await forwardPass(f.model, [[...prompt, ...c.tokens.slice(0, k)]]);
      const logits = lastLogits(full, 0);
      assert.equal(greedy(logits), c.tokens[k], `step ${k}`);
      const lp = logSoftmax(logits);
      assert.ok(Math.abs(c.logprobs![k].logprob - lp[c.tokens[k]]) < 1e-4, `logprob at step ${k}`);
    }
  } finally {
    await f.close();
  }
});

Deno.test("generate() on a left-padded batch equals each prompt alone", async () => {
  const f = await fixture(false);
  try {
    const prompts = [[5, 6, 7, 8, 9, 10, 11], [44], [12, 30, 2]];
    const batch = await generate(f.model, prompts, { maxNewTokens: 8, logprobs: true });
    for (let i = 0; i < prompts.length; i++) {
      const alone = await generate(f.model, [prompts[i]], { maxNewTokens: 8, logprobs: true });
      assert.deepEqual(batch.completions[i].tokens, alone.completions[0].tokens, `prompt ${i}`);
      batch.completions[i].logprobs!.forEach((lp, k) =>
        assert.ok(Math.abs(lp.logprob - alone.completions[0].logprobs![k].logprob) < 1e-4)
      );
    }
  } finally {
    await f.close();
  }
});

Deno.test("generate() with temperature repeats for a seed and changes with it", async () => {
  const f = await fixture(false);
  try {
    const opts = { maxNewTokens: 12, temperature: 1.5, topP: 0.95, topK: 30 };
    const a = await generate(f.model, [[1, 2, 3]], { ...opts, seed: 7 });
    const b = await generate(f.model, [[1, 2, 3]], { ...opts, seed: 7 });
    const c = await generate(f.model, [[1, 2, 3]], { ...opts, seed: 8 });
    assert.deepEqual(a.completions[0].tokens, b.completions[0].tokens);
    assert.notDeepEqual(a.completions[0].tokens, c.completions[0].tokens);
  } finally {
    await f.close();
  }
});

Deno.test("forwardPass() hidden states with add and ablate edits match the reference forward", async () => {
  const f = await fixture(true);
  try {
    const r = new Prng(99);
    const v0 = Float32Array.from({ length: 16 }, () => r.normal());
    const u1 = Float32Array.from({ length: 16 }, () => r.normal());
    const edits: ResidualEdit[] = [
      { block: 0, type: "add", vector: v0, coefficient: 2.5, positions: "all" },
      { block: 1, type: "ablate", vector: u1, coefficient: 0, positions: "all" },
    ];
    const ids = [[4, 9, 16, 25, 36]];
    const got = await forwardPass(f.model, ids, { hiddenStates: true, edits });
    const ref = referenceForward(CONFIG, f.weights, {
      inputIds: ids,
      edits: [
        { block: 0, vector: v0, positions: () => 2.5 },
        { block: 1, vector: u1, type: "ablate" },
      ],
    });
    for (let j = 0; j <= 3; j++) {
      const g = got.hiddenStates![j].data as Float32Array;
      const want = ref.hiddenStates[j][0].flatMap((x) => Array.from(x));
      want.forEach((w, i) =>
        assert.ok(Math.abs(g[i] - w) < 1e-4 * (1 + Math.abs(w)), `h${j}[${i}]`)
      );
    }
    // the ablated direction is gone from hidden_states[2]
    const h2 = got.hiddenStates![2].data as Float32Array;
    const n = Math.hypot(...u1);
    for (let s = 0; s < 5; s++) {
      let dot = 0;
      for (let x = 0; x < 16; x++) dot += h2[s * 16 + x] * u1[x] / n;
      assert.ok(Math.abs(dot) < 1e-4, `position ${s}: ${dot}`);
    }
  } finally {
    await f.close();
  }
});

Deno.test("generate() steering position modes act where the reference says, in prefill and decode", async () => {
  const f = await fixture(true);
  try {
    const r = new Prng(3);
    const v = Float32Array.from({ length: 16 }, () => 3 * r.normal());
    const prompt = [7, 14, 21, 28];
    const P = prompt.length;
    const byMode: string[] = [];
    for (const positions of ["all", "prompt", "response"] as const) {
      const c = 4;
      const out = await generate(f.model, [prompt], {
        maxNewTokens: 5,
        edits: [{ block: 1, type: "add", vector: v, coefficient: c, positions }],
      });
      const tokens = out.completions[0].tokens;
      byMode.push(tokens.join(","));
      // Reference: the whole sequence at once with the per-position coefficient the mode implies.
      // Position s (0-based) of the full sequence is a prompt position when s < P, and the last
      // prompt position is the one whose output predicts the first response token.
      const coef = (s: number) =>
        positions === "all" ? c : positions === "prompt" ? (s < P ? c : 0) : (s >= P - 1 ? c : 0);
      const seq = [...prompt, ...tokens];
      const ref = referenceForward(CONFIG, f.weights, {
        inputIds: [seq],
        edits: [{ block: 1, vector: v, positions: (_b, s) => coef(s) }],
      });
      for (let k = 0; k < tokens.length; k++) {
        assert.equal(greedy(ref.logits[0][P - 1 + k]), tokens[k], `${positions} step ${k}`);
      }
    }
    // the modes must differ for the check above to tell them apart
    assert.equal(new Set(byMode).size, 3, byMode.join(" | "));
    const plain = await generate(f.model, [prompt], { maxNewTokens: 5 });
    const steered = await generate(f.model, [prompt], {
      maxNewTokens: 5,
      edits: [{ block: 1, type: "add", vector: v, coefficient: 4, positions: "all" }],
    });
    assert.notDeepEqual(plain.completions[0].tokens, steered.completions[0].tokens);
  } finally {
    await f.close();
  }
});
