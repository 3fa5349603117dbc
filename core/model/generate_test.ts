import assert from "node:assert/strict";
import { join } from "node:path";
import { GraphBuilder, makeModel, writeModel } from "../onnx/mod.ts";
import { OrtSession } from "../runtime/session.ts";
import type { WireTensor } from "../runtime/tensor.ts";
import {
  type DecoderModel,
  type DecoderSession,
  generate,
  generateStream,
  rowSeed,
} from "./generate.ts";
import { logSoftmax } from "./sampling.ts";

/**
 * A toy decoder with the real I/O contract: its "KV cache" stores the token ids, and its logits
 * are -(v - target)² with target = (sum of the unmasked tokens in context) mod V. So greedy decoding
 * follows t_next = (sum of prompt + generated) mod V, which only holds if the cache, the attention
 * mask and left padding are handled right. It also takes (and ignores) steering inputs.
 */
const V = 26;
const EOS = 25;

async function toyModel(): Promise<{ session: OrtSession; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "dramatis_gen_" });
  const b = new GraphBuilder();
  const ids = b.input("input_ids", "int64", ["batch", "seq"]);
  const mask = b.input("attention_mask", "int64", ["batch", "total"]);
  b.input("position_ids", "int64", ["batch", "seq"]);
  const pk = b.input("past_key_values.0.key", "float32", ["batch", 1, "past", 1]);
  b.input("past_key_values.0.value", "float32", ["batch", 1, "past", 1]);
  b.input("num_logits_to_keep", "int64", []);
  b.input("steer.0.vectors", "float32", ["k", 1]);
  b.input("steer.0.scales", "float32", ["batch", "seq", "k"]);
  b.input("ablate.0.directions", "float32", ["j", 1]);
  b.input("ablate.0.mask", "float32", ["batch", "seq", "j"]);
  const axes13 = b.constantInt([1, 3], [2]);
  const x4 = b.op1("Unsqueeze", [b.op1("Cast", [ids], { to: 1 }), axes13]);
  const key = b.op1("Concat", [pk, x4], { axis: 2 });
  b.output("present.0.key", "float32", ["batch", 1, "total", 1], key);
  b.output("present.0.value", "float32", ["batch", 1, "total", 1], b.op1("Identity", [key]));
  const m4 = b.op1("Unsqueeze", [b.op1("Cast", [mask], { to: 1 }), axes13]);
  const total = b.op1("ReduceSum", [b.op1("Mul", [key, m4]), b.constantInt([1, 2, 3], [3])], {
    keepdims: 0,
  });
  const target = b.op1("Mod", [total, b.constant([V], [])], { fmod: 1 });
  const d = b.op1("Sub", [
    b.constant(Array.from({ length: V }, (_, i) => i), [1, V]),
    b.op1("Unsqueeze", [target, b.constantInt([1], [1])]),
  ]);
  const logits = b.op1("Neg", [b.op1("Mul", [d, d])]);
  b.output(
    "logits",
    "float32",
    ["batch", 1, V],
    b.op1("Unsqueeze", [logits, b.constantInt([1], [1])]),
  );
  const path = join(dir, "toy.onnx");
  await writeModel(makeModel(b.graph()), path, { externalData: false });
  return { session: await OrtSession.create(path, { intraOpThreads: 1 }), dir };
}

const letters = (ids: readonly number[]) => ids.map((i) => String.fromCharCode(97 + i)).join("");

function toy(session: DecoderSession): DecoderModel {
  return {
    session,
    shape: { numLayers: 1, numKvHeads: 1, headDim: 1, hiddenSize: 1 },
    eosTokenIds: [EOS],
    padTokenId: 7, // a nonzero pad id: any leak through the mask changes the sums
    decode: letters,
  };
}

/** The oracle: greedy continuation of the toy recurrence. */
function oracle(prompt: number[], maxNew: number): { tokens: number[]; eos: boolean } {
  let sum = prompt.reduce((a, b) => a + b, 0);
  const tokens: number[] = [];
  while (tokens.length < maxNew) {
    const t = sum % V;
    if (t === EOS) return { tokens, eos: true };
    tokens.push(t);
    sum += t;
  }
  return { tokens, eos: false };
}

async function withToy(fn: (model: DecoderModel, session: OrtSession) => Promise<void>) {
  const { session, dir } = await toyModel();
  try {
    await fn(toy(session), session);
  } finally {
    await session.release();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("generate() with a KV cache and a left-padded batch follows each prompt's oracle", async () => {
  await withToy(async (model) => {
    const prompts = [[3], [1, 2, 4, 9, 11], [20, 1, 0], [12, 12]];
    const r = await generate(model, prompts, { maxNewTokens: 12 });
    prompts.forEach((p, i) => {
      const o = oracle(p, 12);
      const c = r.completions[i];
      assert.deepEqual(c.tokens, o.tokens, `prompt ${i}`);
      assert.equal(c.text, letters(o.tokens));
      assert.equal(c.finishReason, o.eos ? "stop" : "length");
    });
    // a prompt summing to 25 mod 26 stops on EOS immediately
    const e = await generate(model, [[20, 5]], { maxNewTokens: 5 });
    assert.deepEqual(e.completions[0].tokens, []);
    assert.equal(e.completions[0].finishReason, "stop");
    assert.equal(r.stats.promptTokens, 11);
  });
});

Deno.test("generate() keeps the other rows right when rows finish early and leave the batch", async () => {
  await withToy(async (model) => {
    // row 0 ("naaa…") stops on "aaa" after 4 tokens, row 1 on EOS at once, rows 2-3 run on
    const prompts = [[13], [20, 5], [1], [2, 2, 5]];
    const r = await generate(model, prompts, { maxNewTokens: 14, stop: "aaa" });
    assert.equal(r.completions[0].text, "n");
    assert.equal(r.completions[0].tokens.length, 4);
    assert.equal(r.completions[1].finishReason, "stop");
    for (const i of [2, 3]) {
      const o = letters(oracle(prompts[i], 14).tokens);
      assert.ok(!o.includes("aaa"), "the stop string must not occur in rows 2-3 for this test");
      assert.equal(r.completions[i].text, o);
      assert.equal(r.completions[i].finishReason, "length");
    }
  });
});

Deno.test("generate() batch rows equal the same prompts run alone", async () => {
  await withToy(async (model) => {
    const prompts = [[5, 6], [1], [2, 3, 4, 5, 6, 7, 8]];
    const batch = await generate(model, prompts, { maxNewTokens: 9, temperature: 3, seed: 9 });
    for (let i = 0; i < prompts.length; i++) {
      const alone = await generate(model, [prompts[i]], { maxNewTokens: 9 });
      const g = oracle(prompts[i], 9);
      assert.deepEqual(alone.completions[0].tokens, g.tokens);
    }
    // sampled rows depend only on (seed, row index) and their own context
    const first = await generate(model, [prompts[0]], { maxNewTokens: 9, temperature: 3, seed: 9 });
    assert.deepEqual(first.completions[0].tokens, batch.completions[0].tokens);
  });
});

Deno.test("generate() is deterministic for a seed and varies across seeds and rows", async () => {
  await withToy(async (model) => {
    const opts = { maxNewTokens: 20, temperature: 8, n: 3 };
    const a = await generate(model, [[1, 2]], { ...opts, seed: 42 });
    const b = await generate(model, [[1, 2]], { ...opts, seed: 42 });
    const c = await generate(model, [[1, 2]], { ...opts, seed: 43 });
    assert.equal(a.completions.length, 3);
    assert.deepEqual(a.completions.map((x) => x.index), [0, 1, 2]);
    assert.deepEqual(a.completions.map((x) => x.tokens), b.completions.map((x) => x.tokens));
    assert.notDeepEqual(a.completions.map((x) => x.tokens), c.completions.map((x) => x.tokens));
    assert.notDeepEqual(a.completions[0].tokens, a.completions[1].tokens);
    assert.equal(a.seed, 42);
    assert.notEqual(rowSeed(42, 0), rowSeed(42, 1));
  });
});

Deno.test("generate() cuts stop strings exactly and streaming concatenation equals the text", async () => {
  await withToy(async (model) => {
    const prompt = [1, 2, 4];
    const full = letters(oracle(prompt, 30).tokens);
    const stop = full.slice(7, 9);
    const cut = full.slice(0, full.indexOf(stop));
    const r = await generate(model, [prompt], { maxNewTokens: 30, stop: [stop] });
    assert.equal(r.completions[0].text, cut);
    assert.equal(r.completions[0].finishReason, "stop");

    let streamed = "";
    let finish = "";
    const it = generateStream(model, [prompt], { maxNewTokens: 30, stop: [stop] });
    for (;;) {
      const step = await it.next();
      if (step.done) {
        assert.equal(step.value.completions[0].text, streamed);
        break;
      }
      const ev = step.value;
      streamed += ev.text;
      assert.ok(cut.startsWith(streamed), `streamed past the stop: ${streamed}`);
      if (ev.type === "finish") finish = ev.finishReason;
    }
    assert.equal(streamed, cut);
    assert.equal(finish, "stop");
  });
});

Deno.test("generate() logprobs equal a log-softmax of the step's logits", async () => {
  await withToy(async (model) => {
    const prompt = [3, 4];
    const r = await generate(model, [prompt], { maxNewTokens: 4, topLogprobs: 3 });
    let sum = 7;
    for (const lp of r.completions[0].logprobs!) {
      const target = sum % V;
      const ref = logSoftmax(Float32Array.from({ length: V }, (_, v) => -((v - target) ** 2)));
      assert.equal(lp.token, target);
      assert.ok(Math.abs(lp.logprob - ref[target]) < 1e-6);
      assert.equal(lp.top.length, 3);
      assert.equal(lp.top[0].token, target);
      for (const t of lp.top) assert.ok(Math.abs(t.logprob - ref[t.token]) < 1e-6);
      sum += target;
    }
  });
});

Deno.test("generate() applies the allowedTokens hook per step", async () => {
  await withToy(async (model) => {
    const r = await generate(model, [[1]], {
      maxNewTokens: 3,
      allowedTokens: (step) => step === 0 ? [2, 3] : null,
    });
    // step 0 target is 1 but only 2 or 3 are allowed: 2 is closer
    assert.equal(r.completions[0].tokens[0], 2);
    assert.deepEqual(r.completions[0].tokens.slice(1), [3, 6]);
  });
});

Deno.test("generateStream() stops with the signal's reason when aborted", async () => {
  await withToy(async (model) => {
    const ac = new AbortController();
    let seen = 0;
    await assert.rejects(async () => {
      for await (
        const ev of generateStream(model, [[1]], { maxNewTokens: 50, signal: ac.signal })
      ) {
        if (ev.type === "delta" && ++seen === 2) ac.abort(new Error("user cancelled"));
      }
    }, /user cancelled/);
    assert.equal(seen, 2);
  });
});

Deno.test("generate() feeds steering scales by position mode in prefill and decode", async () => {
  await withToy(async (model, session) => {
    const seen: { seq: number; scales: number[]; mask: number[] }[] = [];
    const spy: DecoderSession = {
      inputNames: session.inputNames,
      outputNames: session.outputNames,
      run(feeds: Record<string, WireTensor>, names?: readonly string[]) {
        seen.push({
          seq: feeds.input_ids.dims[1],
          scales: [...feeds["steer.0.scales"].data as Float32Array],
          mask: [...feeds["ablate.0.mask"].data as Float32Array],
        });
        return session.run(feeds, names);
      },
    };
    const v = new Float32Array([1]);
    await generate({ ...model, session: spy }, [[1, 2], [4]], {
      maxNewTokens: 2,
      edits: [
        { block: 0, type: "add", vector: v, coefficient: 2, positions: "response" },
        { block: 0, type: "add", vector: v, coefficient: 5, positions: "prompt" },
        { block: 0, type: "ablate", vector: v, coefficient: 0, positions: "all" },
      ],
    });
    // prefill: batch 2, seq 2, K = 2; row 1 is left-padded at position 0
    assert.deepEqual(seen[0], { seq: 2, scales: [0, 5, 2, 5, 0, 0, 2, 5], mask: [1, 1, 0, 1] });
    // decode: response on, prompt off, ablation on
    assert.deepEqual(seen[1], { seq: 1, scales: [2, 0, 2, 0], mask: [1, 1] });
  });
});
