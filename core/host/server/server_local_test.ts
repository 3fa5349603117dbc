import assert from "node:assert/strict";
import { join } from "node:path";
import OpenAI from "openai";
import { z } from "zod";
import { LocalChatModel } from "../../chat/local_chat_model.ts";
import { PersonaSchema } from "../../contracts/persona.ts";
import { Engine } from "../../model/engine.ts";
import { createTinyModel } from "../../model/tiny.ts";
import { PersonaResolver } from "./persona_resolver.ts";
import { startServer } from "./serve.ts";

// The real engine behind the server: a seeded tiny model in HF layout, made by the project itself.
Deno.test("the server serves a local tiny model to the openai client, streamed and not", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await createTinyModel(join(dir, "m"), { preset: "tiny-llama", seed: 5 });
    const engine = await Engine.load(join(dir, "m"), { steering: true, cacheDir: join(dir, "g") });
    const local = new LocalChatModel(engine, { id: "tiny" });
    const resolver = new PersonaResolver({
      fixed: [
        PersonaSchema.parse({
          name: "ada",
          model: join(dir, "m"),
          system_prompt: "You are {{char}}.",
        }),
      ],
      backend: () => local,
    });
    const server = startServer({
      port: 0,
      resolve: (n) => resolver.resolve(n),
      listModels: () => resolver.models(),
    });
    try {
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "none", maxRetries: 0 });
      const ask = {
        model: "ada",
        messages: [{ role: "user" as const, content: "Hello" }],
        max_tokens: 8,
        seed: 11,
      };
      const full = await client.chat.completions.create({
        ...ask,
        logprobs: true,
        top_logprobs: 2,
      });
      const direct = await local.chat({
        messages: [{ role: "system", content: "You are ada." }, ...ask.messages],
        max_tokens: 8,
        seed: 11,
      });
      assert.equal(full.model, "ada");
      assert.equal(full.choices[0].message.content, direct.choices[0].message.content);
      assert.equal(full.usage!.prompt_tokens, direct.usage.prompt_tokens);
      assert.ok(full.choices[0].logprobs!.content!.length > 0);
      let streamed = "";
      const stream = await client.chat.completions.create({ ...ask, stream: true });
      for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? "";
      assert.equal(streamed, full.choices[0].message.content);

      // Structured output: the tiny model's JSON must parse and validate against the schema.
      const Verdict = z.object({
        mood: z.enum(["happy", "sad", "calm"]),
        score: z.number().int().min(0).max(10),
        reason: z.string().max(20),
      });
      const structured = await client.chat.completions.create({
        ...ask,
        max_tokens: 40,
        temperature: 1,
        n: 3,
        response_format: {
          type: "json_schema",
          json_schema: { name: "verdict", schema: z.toJSONSchema(Verdict), strict: true },
        },
      });
      assert.equal(structured.choices.length, 3);
      for (const c of structured.choices) {
        Verdict.parse(JSON.parse(c.message.content!));
      }

      // seed determinism and n: equal seeds give equal choices, different seeds differ.
      const sampled = (seed: number) =>
        client.chat.completions.create({ ...ask, max_tokens: 12, temperature: 1, n: 2, seed });
      const [a, b, c] = await Promise.all([sampled(3), sampled(3), sampled(4)]);
      assert.deepEqual(
        a.choices.map((x) => x.message.content),
        b.choices.map((x) => x.message.content),
      );
      assert.notDeepEqual(
        a.choices.map((x) => x.message.content),
        c.choices.map((x) => x.message.content),
      );

      // stop: the text ends right before the first occurrence of the stop string.
      const unstopped = full.choices[0].message.content!;
      const cut = unstopped.slice(3, 5);
      assert.equal(cut.length, 2, `the unstopped text is too short: ${JSON.stringify(unstopped)}`);
      const stopped = await client.chat.completions.create({ ...ask, stop: [cut] });
      assert.equal(stopped.choices[0].message.content, unstopped.slice(0, unstopped.indexOf(cut)));
      assert.equal(stopped.choices[0].finish_reason, "stop");
    } finally {
      await server.shutdown();
      await engine.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
