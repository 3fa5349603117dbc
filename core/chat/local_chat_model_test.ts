import assert from "node:assert/strict";
import { join } from "node:path";
import { Engine } from "../model/engine.ts";
import { createTinyModel } from "../model/tiny.ts";
import { LocalChatModel } from "./local_chat_model.ts";
import type { ResidualEdit } from "../contracts/steerer.ts";

const messages = [{ role: "user" as const, content: "Tell me about the sea." }];

async function withEngine(fn: (engine: Engine) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await createTinyModel(join(dir, "m"), { preset: "tiny-llama", seed: 3 });
    const engine = await Engine.load(join(dir, "m"), { steering: true, cacheDir: join(dir, "g") });
    try {
      await fn(engine);
    } finally {
      await engine.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("LocalChatModel.chat() returns what the engine generates, in OpenAI shape", async () => {
  await withEngine(async (engine) => {
    const model = new LocalChatModel(engine, { id: "tiny" });
    const r = await model.chat({ messages, max_tokens: 12, temperature: 0, n: 2, logprobs: true });
    const direct = await engine.generate(messages, { maxNewTokens: 12, temperature: 0, n: 2 });
    assert.equal(r.model, "tiny");
    assert.equal(r.choices.length, 2);
    assert.equal(r.choices[0].message.content, direct.completions[0].text);
    assert.equal(r.choices[1].message.content, direct.completions[1].text);
    assert.equal(r.usage.prompt_tokens, direct.promptTokens[0].length);
    assert.equal(r.usage.completion_tokens, direct.completions[0].tokens.length * 2);
    assert.ok(r.choices[0].logprobs!.content.length > 0);
  });
});

Deno.test("LocalChatModel.stream() concatenates to the non-streamed text for a seed", async () => {
  await withEngine(async (engine) => {
    const model = new LocalChatModel(engine);
    const req = { messages, max_tokens: 16, temperature: 0.9, seed: 7 };
    const whole = (await model.chat(req)).choices[0].message.content;
    let text = "";
    let finish: string | null = null;
    let usage = 0;
    for await (const chunk of model.stream(req)) {
      for (const c of chunk.choices) {
        text += c.delta.content ?? "";
        finish = c.finish_reason ?? finish;
      }
      if (chunk.usage) usage = chunk.usage.completion_tokens;
    }
    assert.equal(text, whole);
    assert.ok(finish === "stop" || finish === "length");
    assert.ok(usage > 0);
  });
});

Deno.test("LocalChatModel.chat() applies resolved steering and refuses it without a resolver", async () => {
  await withEngine(async (engine) => {
    const d = engine.config.hiddenSize;
    const edits: ResidualEdit[] = [{
      block: 0,
      type: "add",
      vector: new Float32Array(d).fill(3),
      coefficient: 1,
      positions: "all",
    }];
    const steering = [{ vector: "v.safetensors", coefficient: 1, layer: 1 }];
    await assert.rejects(
      () => new LocalChatModel(engine).chat({ messages, steering }),
      /no steering resolver/,
    );
    const model = new LocalChatModel(engine, { steering: () => Promise.resolve(edits) });
    const steered = await model.chat({ messages, steering, max_tokens: 10, temperature: 0 });
    const direct = await engine.generate(messages, { maxNewTokens: 10, temperature: 0, edits });
    const plain = await engine.generate(messages, { maxNewTokens: 10, temperature: 0 });
    assert.equal(steered.choices[0].message.content, direct.completions[0].text);
    assert.notEqual(direct.completions[0].text, plain.completions[0].text);
  });
});
