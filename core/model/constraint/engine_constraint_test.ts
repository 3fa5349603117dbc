import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import { Engine } from "../engine.ts";
import { constraintFor } from "./constraint_for.ts";
import { tinyLlama } from "./testing.ts";

const Character = z.object({
  name: z.string().min(1).max(10),
  age: z.number().int().min(0).max(120),
  mood: z.enum(["calm", "angry", "sad"]),
  traits: z.array(z.string().max(6)).max(2),
  alive: z.boolean(),
});

Deno.test("Engine.generate() with constraintFor()'s allowedTokens yields schema-valid JSON", async () => {
  const { dir } = await tinyLlama();
  const cache = await Deno.makeTempDir({ prefix: "dramatis_constraint_cache_" });
  const engine = await Engine.load(dir, { cacheDir: join(cache, "graphs"), threads: 1 });
  try {
    const maxTokens = 48;
    const request = {
      max_tokens: maxTokens,
      response_format: {
        type: "json_schema" as const,
        json_schema: {
          name: "character",
          schema: z.toJSONSchema(Character) as Record<string, unknown>,
        },
      },
    };
    const allowedTokens = constraintFor(request, engine.tokenizer, {
      maxTokens,
      eosTokenIds: engine.decoder.eosTokenIds,
    })!;
    const messages = [{ role: "user" as const, content: "Describe a character as JSON." }];
    for (const temperature of [0, 1.5]) {
      const r = await engine.generate(messages, {
        maxNewTokens: maxTokens,
        allowedTokens,
        temperature,
        n: temperature === 0 ? 1 : 4,
        seed: 3,
      });
      for (const c of r.completions) {
        const parsed = Character.safeParse(JSON.parse(c.text));
        assert.ok(parsed.success, `${c.text}\n${parsed.error?.message}`);
      }
    }
    const choices = constraintFor(
      { constraint: { choices: ["calm", "angry"] } },
      engine.tokenizer,
      { maxTokens: 8, eosTokenIds: engine.decoder.eosTokenIds },
    )!;
    const r = await engine.generate(["How do you feel?", "And now?"], {
      maxNewTokens: 8,
      allowedTokens: choices,
      temperature: 1,
      n: 2,
      seed: 9,
    });
    for (const c of r.completions) {
      assert.ok(["calm", "angry"].includes(c.text), c.text);
      assert.equal(c.finishReason, "stop");
    }
  } finally {
    await engine.close();
    await Deno.remove(cache, { recursive: true });
  }
});
