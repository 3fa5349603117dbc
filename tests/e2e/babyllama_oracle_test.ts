/**
 * The real-checkpoint oracle as a regression test: `../shared/models/babyllama-105` (a
 * TinyStories-trained Llama converted from llama2.c) against llama2.c's own C inference
 * (`reference/`): identical greedy tokens for all five prompts and logits within 1e-4, through
 * `Engine.generate` (KV-cache decode), the OpenAI-compatible server (official `openai` client),
 * a left-padded batch of all five prompts (generation and a full forward pass), in float32 and in
 * a bfloat16 copy of the weights.
 *
 * bfloat16 keeps 8 significant bits, so a bf16 copy cannot match float32 logits to 1e-4 (the
 * measured gap is printed); the bf16 copy is held to the same tolerances against this engine's
 * float32 run of the bf16-rounded weights, which is what the bf16 load path must reproduce.
 *
 * Skipped with a message where `../shared` is absent.
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import { LocalChatModel } from "../../core/chat/local_chat_model.ts";
import { startServer } from "../../core/host/server/serve.ts";
import { Engine } from "../../core/model/engine.ts";
import {
  decodeSafetensors,
  f32ToBf16,
  type RawTensor,
  toFloat32,
  writeSafetensors,
} from "../../core/model/safetensors.ts";

const DIR = new URL("../../../shared/models/babyllama-105", import.meta.url).pathname;
const PRESENT = existsSync(join(DIR, "reference", "prompts.json"));
if (!PRESENT) {
  console.log(`babyllama oracle tests skipped: ${DIR} is absent (the ../shared checkout)`);
}
const TOL = 1e-4;
const V = 105;
/** llama2.c's run.c ends a story when it samples BOS. */
const STOP = [1];

interface Reference {
  prompt: string;
  promptIds: number[];
  genIds: number[];
  /** Row t: logits after token t of promptIds ++ genIds. */
  logits: Float32Array;
  /** llama2.c's decoded text of the prompt and the story. */
  text: string;
}

async function references(): Promise<Reference[]> {
  const prompts: string[] = JSON.parse(
    await Deno.readTextFile(join(DIR, "reference", "prompts.json")),
  );
  return Promise.all(prompts.map(async (prompt, i) => {
    const lines = (await Deno.readTextFile(join(DIR, "reference", `prompt${i}.ids`))).split("\n");
    const ids = (tag: string) =>
      lines.find((l) => l.startsWith(tag))!.slice(tag.length).trim().split(/\s+/).map(Number);
    const bytes = await Deno.readFile(join(DIR, "reference", `prompt${i}.logits.f32`));
    const logits = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const text = (await Deno.readTextFile(join(DIR, "reference", `prompt${i}.txt`))).replace(
      /\n$/,
      "",
    );
    return { prompt, promptIds: ids("PROMPT_IDS:"), genIds: ids("GEN_IDS:"), logits, text };
  }));
}

/** Generated tokens as our engine reports them: run.c's final BOS is the stop token. */
function expectedTokens(r: Reference): number[] {
  return r.genIds[r.genIds.length - 1] === 1 ? r.genIds.slice(0, -1) : r.genIds;
}

function logSoftmaxRow(logits: Float32Array, row: number): Float64Array {
  const x = logits.subarray(row * V, (row + 1) * V);
  let max = -Infinity;
  for (const v of x) max = Math.max(max, v);
  let sum = 0;
  for (const v of x) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(x, (v) => v - lse);
}

/** Copies the model directory with its weights replaced (and, optionally, a raw chat template). */
async function copyModel(
  to: string,
  weights: (tensors: Map<string, RawTensor>) => Map<string, RawTensor>,
  dtype = "float32",
  chatTemplate?: string,
): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for (const f of ["generation_config.json", "tokenizer.json"]) {
    await Deno.copyFile(join(DIR, f), join(to, f));
  }
  const config = JSON.parse(await Deno.readTextFile(join(DIR, "config.json")));
  await Deno.writeTextFile(
    join(to, "config.json"),
    JSON.stringify({ ...config, torch_dtype: dtype }),
  );
  const tokCfg = JSON.parse(await Deno.readTextFile(join(DIR, "tokenizer_config.json")));
  if (chatTemplate) tokCfg.chat_template = chatTemplate;
  await Deno.writeTextFile(join(to, "tokenizer_config.json"), JSON.stringify(tokCfg));
  const { tensors } = decodeSafetensors(await Deno.readFile(join(DIR, "model.safetensors")));
  await writeSafetensors(join(to, "model.safetensors"), weights(tensors));
}

const asF32 = (t: RawTensor): RawTensor => ({ dtype: "F32", shape: t.shape, data: toFloat32(t) });
const bf16Tensors = (m: Map<string, RawTensor>) =>
  new Map(
    [...m].map((
      [k, t],
    ) => [k, { dtype: "BF16" as const, shape: t.shape, data: f32ToBf16(toFloat32(t)) }]),
  );
const bf16RoundedF32 = (m: Map<string, RawTensor>) =>
  new Map(
    [...m].map((
      [k, t],
    ) => [k, asF32({ dtype: "BF16", shape: t.shape, data: f32ToBf16(toFloat32(t)) })]),
  );

/** Greedy generation of every prompt, one at a time and as one left-padded batch. */
async function checkGeneration(engine: Engine, refs: Reference[], label: string) {
  const batch = await engine.generate({ inputIds: refs.map((r) => r.promptIds) }, {
    temperature: 0,
    maxNewTokens: Math.max(...refs.map((r) => r.genIds.length)),
    eosTokenIds: STOP,
    logprobs: true,
    topLogprobs: 20,
  });
  for (const [i, r] of refs.entries()) {
    assert.deepEqual(engine.tokenizer.encode(r.prompt), r.promptIds, `${label}: prompt ${i} ids`);
    assert.deepEqual(batch.promptTokens[i], r.promptIds);
    // The raw prompt text: BOS is added by the tokenizer, as run.c does.
    const single = await engine.generate(r.prompt, {
      temperature: 0,
      maxNewTokens: r.genIds.length,
      eosTokenIds: STOP,
      logprobs: true,
      topLogprobs: 20,
    });
    for (
      const [how, c] of [["generate", single.completions[0]], [
        "batch",
        batch.completions[i],
      ]] as const
    ) {
      // run.c stopped at 200 positions or at BOS; the batch may run longer for shorter prompts.
      const want = expectedTokens(r);
      const stoppedAtBos = r.genIds[r.genIds.length - 1] === 1;
      assert.deepEqual(
        stoppedAtBos ? c.tokens : c.tokens.slice(0, want.length),
        want,
        `${label} ${how}: prompt ${i} tokens`,
      );
      // Every chosen and alternative log-probability against log_softmax of the C logits.
      if (how === "generate" && label === "f32") {
        // A raw continuation is spelled after its prompt (leading space kept): prompt + text is
        // llama2.c's decoded story (run.c prints the <unk> piece; text leaves out special tokens).
        assert.equal(r.prompt + c.text, r.text.replaceAll("<unk>", ""), `prompt ${i} text`);
      }
      c.logprobs!.slice(0, r.genIds.length).forEach((lp, k) => {
        const ref = logSoftmaxRow(r.logits, r.promptIds.length - 1 + k);
        assert.ok(
          Math.abs(lp.logprob - ref[r.genIds[k]]) <= TOL,
          `${label} ${how}: prompt ${i} step ${k}: ${lp.logprob} vs ${ref[r.genIds[k]]}`,
        );
      });
    }
  }
  return batch;
}

/** Max |logit - reference| over every position of every prompt, from one left-padded forward. */
async function batchForwardGap(engine: Engine, refs: Reference[], against?: Float32Array[]) {
  const seqs = refs.map((r) => [...r.promptIds, ...r.genIds].slice(0, r.logits.length / V));
  const out = await engine.forward(seqs);
  const S = out.logits.dims[1];
  const data = out.logits.data as Float32Array;
  let gap = 0;
  const rows: Float32Array[] = [];
  seqs.forEach((s, b) => {
    const pad = out.padding[b];
    const mine = data.slice((b * S + pad) * V, (b * S + pad + s.length) * V);
    rows.push(mine);
    const ref = against?.[b] ?? refs[b].logits;
    for (let j = 0; j < mine.length; j++) gap = Math.max(gap, Math.abs(mine[j] - ref[j]));
  });
  return { gap, rows };
}

Deno.test({
  name:
    "babyllama-105 matches llama2.c: greedy tokens and logits (generate, server, left-padded batch, float32)",
  ignore: !PRESENT,
  async fn() {
    const refs = await references();
    const root = await Deno.makeTempDir({ prefix: "dramatis_babyllama_" });
    // A raw-text chat template so the chat endpoint sends exactly BOS + prompt.
    const served = join(root, "served");
    await copyModel(served, (m) => m, "float32", "{{ bos_token }}{{ messages[-1]['content'] }}");
    const engine = await Engine.load(DIR, { threads: 1, cacheDir: join(root, "graphs") });
    const chatEngine = await Engine.load(served, { threads: 1, cacheDir: join(root, "graphs") });
    const server = startServer({
      port: 0,
      resolve: (n) => (n === "babyllama" ? new LocalChatModel(chatEngine, { id: n }) : undefined),
      listModels: () => [{ id: "babyllama" }],
    });
    try {
      await checkGeneration(engine, refs, "f32");
      const { gap } = await batchForwardGap(engine, refs);
      console.log(
        `babyllama f32: max |logit - llama2.c| over all positions = ${gap.toExponential(2)}`,
      );
      assert.ok(gap <= TOL, `forward logits differ by ${gap}`);
      // The server, through the official client.
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused" });
      for (const [i, r] of refs.entries()) {
        const res = await client.chat.completions.create({
          model: "babyllama",
          messages: [{ role: "user", content: r.prompt }],
          temperature: 0,
          max_tokens: r.genIds.length,
          logprobs: true,
          top_logprobs: 5,
        });
        const want = expectedTokens(r);
        const lps = res.choices[0].logprobs!.content!;
        assert.equal(lps.length, r.genIds.length, `server: prompt ${i} token count`);
        // A chat reply is decoded as a whole, as transformers does (no leading space).
        assert.equal(
          res.choices[0].message.content,
          engine.tokenizer.decode(want, { skipSpecialTokens: true }),
          `server: prompt ${i} text`,
        );
        assert.equal(want.length, lps.length - (r.genIds.length - want.length));
        lps.forEach((lp, k) => {
          const ref = logSoftmaxRow(r.logits, r.promptIds.length - 1 + k);
          assert.ok(
            Math.abs(lp.logprob - ref[r.genIds[k]]) <= TOL,
            `server: prompt ${i} step ${k}`,
          );
          // The best alternative is the chosen token (greedy), with the same log-probability.
          assert.ok(Math.abs(lp.top_logprobs[0].logprob - lp.logprob) <= 1e-6);
        });
      }
    } finally {
      await server.shutdown();
      await engine.close();
      await chatEngine.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "babyllama-105 in bfloat16 matches the float32 run of its bf16-rounded weights (and llama2.c's greedy story)",
  ignore: !PRESENT,
  async fn() {
    const refs = await references();
    const root = await Deno.makeTempDir({ prefix: "dramatis_babyllama_bf16_" });
    await copyModel(join(root, "bf16"), bf16Tensors, "bfloat16");
    await copyModel(join(root, "rounded"), bf16RoundedF32);
    const bf16 = await Engine.load(join(root, "bf16"), { threads: 1, cacheDir: join(root, "g") });
    const rounded = await Engine.load(join(root, "rounded"), {
      threads: 1,
      cacheDir: join(root, "g"),
    });
    try {
      // The float32 oracle of the bf16 weights: our own engine on the rounded values.
      const oracle = await rounded.generate({ inputIds: refs.map((r) => r.promptIds) }, {
        temperature: 0,
        maxNewTokens: 200,
        eosTokenIds: STOP,
      });
      const { rows } = await batchForwardGap(rounded, refs);
      const got = await bf16.generate({ inputIds: refs.map((r) => r.promptIds) }, {
        temperature: 0,
        maxNewTokens: 200,
        eosTokenIds: STOP,
      });
      got.completions.forEach((c, i) =>
        assert.deepEqual(c.tokens, oracle.completions[i].tokens, `bf16 prompt ${i}`)
      );
      const { gap } = await batchForwardGap(bf16, refs, rows);
      assert.ok(gap <= TOL, `bf16 vs rounded-f32 logits differ by ${gap}`);
      // How far bf16 rounding itself moves the model from llama2.c (reported, not a tolerance).
      const vsC = await batchForwardGap(bf16, refs);
      const same = got.completions.map((c, i) =>
        c.tokens.findIndex((t, k) => t !== expectedTokens(refs[i])[k])
      );
      console.log(
        `babyllama bf16: max |logit - llama2.c f32| = ${vsC.gap.toExponential(2)}; first ` +
          `greedy divergence per prompt (-1 = none): ${JSON.stringify(same)}`,
      );
      // bf16 rounding of the weights stays far below what changes the story's first sentence.
      for (const [i, c] of got.completions.entries()) {
        assert.deepEqual(c.tokens.slice(0, 10), expectedTokens(refs[i]).slice(0, 10));
      }
    } finally {
      await bf16.close();
      await rounded.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
