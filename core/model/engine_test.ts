import assert from "node:assert/strict";
import { join } from "node:path";
import { errorCode } from "../errors.ts";
import { Engine } from "./engine.ts";
import { greedy, logSoftmax } from "./sampling.ts";
import { createTinyModel } from "./tiny.ts";

async function withEngine(
  fn: (engine: Engine, dirs: { model: string; cache: string }) => Promise<void>,
  options: { steering?: boolean; preset?: "tiny-qwen3" | "tiny-llama" } = {},
) {
  const root = await Deno.makeTempDir({ prefix: "dramatis_engine_" });
  const model = join(root, "model");
  const cache = join(root, "cache");
  await createTinyModel(model, { preset: options.preset ?? "tiny-qwen3", seed: 3 });
  const engine = await Engine.load(model, {
    cacheDir: cache,
    threads: 1,
    steering: options.steering,
  });
  try {
    await fn(engine, { model, cache });
  } finally {
    await engine.close();
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("Engine.load() exports the graph once and reuses the cache on the next load", async () => {
  await withEngine(async (engine, dirs) => {
    assert.ok(engine.graphPath.startsWith(dirs.cache));
    const steps: string[] = [];
    const again = await Engine.load(dirs.model, {
      cacheDir: dirs.cache,
      onProgress: (s) => steps.push(s),
    });
    try {
      assert.equal(again.graphPath, engine.graphPath);
      assert.ok(!steps.some((s) => s.startsWith("exporting")), steps.join("; "));
    } finally {
      await again.close();
    }
    // different build options → a different cache entry
    const steered = await Engine.load(dirs.model, { cacheDir: dirs.cache, steering: true });
    try {
      assert.notEqual(steered.graphPath, engine.graphPath);
      assert.ok(steered.steering);
    } finally {
      await steered.close();
    }
  });
});

Deno.test("Engine.generate() on chat messages streams the same text it returns", async () => {
  await withEngine(async (engine) => {
    const messages = [{ role: "user" as const, content: "Tell me a story." }];
    const r = await engine.generate(messages, { maxNewTokens: 24 });
    const c = r.completions[0];
    assert.equal(c.text, engine.tokenizer.decode(c.tokens, { skipSpecialTokens: true }));
    assert.equal(r.promptTokens[0].length > 0, true);
    let streamed = "";
    let finish = "";
    for await (const ev of engine.stream(messages, { maxNewTokens: 24 })) {
      if (ev.type === "delta" || ev.type === "finish") streamed += ev.text;
      if (ev.type === "finish") finish = ev.finishReason;
    }
    assert.equal(streamed, c.text);
    assert.equal(finish, c.finishReason);
  });
});

Deno.test("Engine.generate() cuts at a stop string and reports OpenAI-style logprobs", async () => {
  await withEngine(async (engine) => {
    const free = await engine.generate("Once upon a time", { maxNewTokens: 30 });
    const text = free.completions[0].text;
    assert.ok(text.length >= 6, `need some text to cut: ${JSON.stringify(text)}`);
    const stop = text.slice(3, 6);
    const cut = await engine.generate("Once upon a time", { maxNewTokens: 30, stop: [stop] });
    assert.equal(cut.completions[0].text, text.slice(0, text.indexOf(stop)));
    assert.equal(cut.completions[0].finishReason, "stop");

    const lp = await engine.generate("Once upon a time", { maxNewTokens: 3, topLogprobs: 2 });
    const first = lp.completions[0].logprobs![0];
    assert.equal(first.top_logprobs.length, 2);
    assert.equal(first.token, engine.tokenizer.decode([lp.completions[0].tokens[0]]));
    // logprob of the first token = log-softmax of the full forward's last logits
    const ids = engine.encode("Once upon a time")[0];
    const fw = await engine.forward([ids]);
    const [, S, V] = fw.logits.dims;
    const last = (fw.logits.data as Float32Array).slice((S - 1) * V, S * V);
    assert.equal(greedy(last), lp.completions[0].tokens[0]);
    assert.ok(Math.abs(logSoftmax(last)[lp.completions[0].tokens[0]] - first.logprob) < 1e-4);
  });
});

Deno.test("Engine.generate() gives n seeded completions per prompt", async () => {
  await withEngine(async (engine) => {
    const opts = { maxNewTokens: 12, temperature: 1.2, n: 2, seed: 5 };
    const a = await engine.generate(["Hello", "Goodbye"], opts);
    const b = await engine.generate(["Hello", "Goodbye"], opts);
    assert.deepEqual(a.completions.map((c) => [c.prompt, c.index]), [[0, 0], [0, 1], [1, 0], [
      1,
      1,
    ]]);
    assert.deepEqual(a.completions.map((c) => c.tokens), b.completions.map((c) => c.tokens));
    assert.equal(a.stats.promptTokens, a.promptTokens[0].length + a.promptTokens[1].length);
  });
});

Deno.test("Engine.forward() returns every hidden state and edits need a steering graph", async () => {
  await withEngine(async (engine) => {
    const ids = engine.encode(["I am happy", "Hi"]);
    const r = await engine.forward(ids, { hiddenStates: true });
    assert.equal(r.hiddenStates!.length, engine.config.numLayers + 1);
    assert.deepEqual(r.hiddenStates![0].dims, [2, ids[0].length, engine.config.hiddenSize]);
    const edit = {
      block: 0,
      type: "add" as const,
      vector: new Float32Array(engine.config.hiddenSize),
      coefficient: 1,
      positions: "all" as const,
    };
    await assert.rejects(
      () => engine.generate("Hi", { maxNewTokens: 2, edits: [edit] }),
      (e: Error) => errorCode(e) === "E_USAGE" && /steering: true/.test(e.message),
    );
  });
});

Deno.test("Engine.close() makes later calls reject", async () => {
  const root = await Deno.makeTempDir({ prefix: "dramatis_engine_" });
  try {
    await createTinyModel(join(root, "m"), { preset: "tiny-llama", seed: 1 });
    const engine = await Engine.load(join(root, "m"), { cacheDir: join(root, "c") });
    await engine.close();
    await assert.rejects(() => engine.generate("Hi", { maxNewTokens: 2 }), /released/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
