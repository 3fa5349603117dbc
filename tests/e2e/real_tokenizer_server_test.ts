/**
 * The server over models with real tokenizers (Llama-2-chat, Llama-3.1, Qwen3): through the
 * official `openai` client, streamed and whole replies are the same text, equal to the engine's
 * own chat generation, with one log-probability per generated token.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import OpenAI from "openai";
import { LocalChatModel } from "../../core/chat/local_chat_model.ts";
import { startServer } from "../../core/host/server/serve.ts";
import { Engine } from "../../core/model/engine.ts";
import { REAL_TOKENIZER_PRESETS } from "../../core/model/real_presets.ts";
import { realTokenizerModelDir } from "../../core/model/testing/real_models.ts";

const MESSAGES = [
  { role: "system" as const, content: "You are terse." },
  { role: "user" as const, content: "Name a colour, then say 85 ✓." },
];

for (const preset of REAL_TOKENIZER_PRESETS) {
  Deno.test(`server on ${preset}: stream = whole reply = engine chat generation`, async () => {
    const dir = await realTokenizerModelDir({ preset, seed: 11 });
    const root = await Deno.makeTempDir({ prefix: "dramatis_real_server_" });
    const engine = await Engine.load(dir, { threads: 1, cacheDir: join(root, "graphs") });
    const server = startServer({
      port: 0,
      resolve: (n) => (n === "m" ? new LocalChatModel(engine, { id: "m" }) : undefined),
      listModels: () => [{ id: "m" }],
    });
    try {
      const own = await engine.generate([MESSAGES], { temperature: 0, maxNewTokens: 12 });
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused" });
      const whole = await client.chat.completions.create({
        model: "m",
        messages: MESSAGES,
        temperature: 0,
        max_tokens: 12,
        logprobs: true,
        top_logprobs: 3,
      });
      const text = whole.choices[0].message.content;
      assert.equal(text, own.completions[0].text);
      assert.equal(whole.usage!.completion_tokens, own.completions[0].tokens.length);
      const lps = whole.choices[0].logprobs!.content!;
      assert.ok(lps.length >= own.completions[0].tokens.length);
      for (const lp of lps) {
        assert.ok(lp.logprob <= 0 && lp.top_logprobs.length === 3);
        assert.ok(Math.abs(lp.top_logprobs[0].logprob - lp.logprob) < 1e-5, "greedy = top-1");
      }
      const stream = await client.chat.completions.create({
        model: "m",
        messages: MESSAGES,
        temperature: 0,
        max_tokens: 12,
        stream: true,
      });
      let streamed = "";
      for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? "";
      assert.equal(streamed, text);
    } finally {
      await server.shutdown();
      await engine.close();
      await Deno.remove(root, { recursive: true });
    }
  });
}
