import assert from "node:assert/strict";
import { z } from "zod";
import { errorCode } from "../../errors.ts";
import { constraintFor, tokenConstraintFor } from "./constraint_for.ts";
import { sampleRandom, tinyLlama } from "./testing.ts";
import { tokenTable } from "./token_table.ts";

const TRIALS = 60;

async function sampleMany(
  request: Parameters<typeof constraintFor>[0],
  maxTokens: number,
  trials = TRIALS,
  spread = 3,
): Promise<{ texts: string[]; eosCount: number }> {
  const { tokenizer } = await tinyLlama();
  const hook = constraintFor(request, tokenizer, { maxTokens });
  assert.ok(hook);
  const texts: string[] = [];
  let eosCount = 0;
  for (let t = 0; t < trials; t++) {
    const c = sampleRandom(hook, {
      vocabSize: tokenizer.vocabSize,
      eos: tokenizer.eosTokenIds,
      maxTokens,
      seed: 1000 + t,
      row: t % 3, // rows are reused across trials: the hook must notice new generations
      spread,
    });
    assert.ok(c.minAllowed >= 1, "a step allowed no token");
    if (c.eos) eosCount++;
    texts.push(tokenizer.decode(c.tokens, { skipSpecialTokens: true }));
  }
  return { texts, eosCount };
}

Deno.test("constraintFor() with choices yields only the choices from random logits", async () => {
  const choices = ["yes", "no", "maybe so", "naïve café 😀", "{}", "the answer is 42"];
  const { texts, eosCount } = await sampleMany({ constraint: { choices } }, 24);
  for (const t of texts) assert.ok(choices.includes(t), JSON.stringify(t));
  assert.equal(eosCount, TRIALS); // every choice is a complete stop
  assert.ok(new Set(texts).size >= 3, "random logits should reach several choices");
});

Deno.test("constraintFor() with a regex yields full matches from random logits", async () => {
  const cases: [string, number][] = [
    ["\\d{3}-[a-z]+", 12],
    ["(cat|dog)s?( and (cat|dog)s?)*", 16],
    ["[A-Z][a-z]{2,8}!?", 10],
    [".{1,6}", 8],
    ["(é|ü|€|😀)+x", 8],
    ["\\w+( \\w+)*", 5],
  ];
  for (const [src, maxTokens] of cases) {
    const js = new RegExp(`^(?:${src})$`, "u");
    const { texts } = await sampleMany({ constraint: { regex: src } }, maxTokens, 40);
    for (const t of texts) assert.ok(js.test(t), `${src}: ${JSON.stringify(t)}`);
  }
});

const Review = z.object({
  title: z.string().max(12),
  stars: z.number().int().min(1).max(5),
  score: z.number().min(-2.5).max(10),
  big: z.int(),
  positive: z.number().positive(),
  tags: z.array(z.enum(["fun", "sad", "long"])).min(1).max(3),
  verdict: z.enum(["buy", "skip"]),
  note: z.string().nullable(),
  extra: z.boolean().optional(),
  author: z.object({
    name: z.string().min(1).max(8),
    id: z.union([z.string().max(4), z.number()]),
  }),
  email: z.email(),
  tuple: z.tuple([z.literal("v"), z.number()]),
  counts: z.record(z.string().max(3), z.number().int().min(0).max(9)),
  free: z.unknown(),
});

Deno.test("constraintFor() with a zod JSON schema yields JSON that zod accepts", async () => {
  const schema = z.toJSONSchema(Review) as Record<string, unknown>;
  const { texts } = await sampleMany(
    { response_format: { type: "json_schema", json_schema: { name: "review", schema } } },
    300,
    20,
  );
  for (const t of texts) {
    const parsed = Review.safeParse(JSON.parse(t));
    assert.ok(parsed.success, `${t}\n${parsed.error?.message}`);
  }
});

Deno.test("constraintFor() closes schema strings and arrays when the budget runs low", async () => {
  const Loose = z.object({ a: z.string(), b: z.array(z.number()), c: z.string() });
  const schema = z.toJSONSchema(Loose) as Record<string, unknown>;
  for (const maxTokens of [20, 24, 40]) {
    const { texts } = await sampleMany(
      { response_format: { type: "json_schema", json_schema: { name: "l", schema } } },
      maxTokens,
      30,
      // flat logits: long strings and arrays are as likely as closing them
      0.1,
    );
    for (const t of texts) assert.ok(Loose.safeParse(JSON.parse(t)).success, t);
  }
});

Deno.test("constraintFor() with json_object yields JSON objects at any budget", async () => {
  for (const maxTokens of [4, 12, 60]) {
    const { texts } = await sampleMany(
      { response_format: { type: "json_object" } },
      maxTokens,
      40,
      1,
    );
    for (const t of texts) {
      const v = JSON.parse(t);
      assert.ok(typeof v === "object" && v !== null && !Array.isArray(v), t);
    }
  }
});

/** Fewest tokens that spell `text` exactly, by dynamic programming over every token. */
function fewestTokens(bytes: readonly (Uint8Array | null)[], text: string): number {
  const target = new TextEncoder().encode(text);
  const best = new Array(target.length + 1).fill(Infinity);
  best[0] = 0;
  for (let i = 0; i < target.length; i++) {
    if (best[i] === Infinity) continue;
    for (const bs of bytes) {
      if (!bs || bs.length === 0 || i + bs.length > target.length) continue;
      if (bs.every((b, k) => target[i + k] === b)) {
        best[i + bs.length] = Math.min(best[i + bs.length], best[i] + 1);
      }
    }
  }
  return best[target.length];
}

Deno.test("tokenConstraintFor() meets a budget of exactly the fewest tokens, and no fewer", async () => {
  const { tokenizer } = await tinyLlama();
  const table = tokenTable(tokenizer);
  for (const choice of ["the cat sat on the mat", "hello there", "Once upon a time"]) {
    const need = fewestTokens(table.bytes, choice);
    assert.ok(need < new TextEncoder().encode(choice).length, "test needs multi-byte tokens");
    const request = { constraint: { choices: [choice, choice + " and more words here"] } };
    assert.throws(
      () => tokenConstraintFor(request, tokenizer, { maxTokens: need - 1 }),
      (e: Error) => errorCode(e) === "E_LIMIT" && e.message.includes(`${need} tokens`),
    );
    const hook = constraintFor(request, tokenizer, { maxTokens: need })!;
    for (let t = 0; t < 20; t++) {
      const c = sampleRandom(hook, {
        vocabSize: 1024,
        eos: tokenizer.eosTokenIds,
        maxTokens: need,
        seed: t,
        row: 0,
      });
      assert.equal(tokenizer.decode(c.tokens, { skipSpecialTokens: true }), choice);
      assert.equal(c.tokens.length, need);
    }
  }
});

Deno.test("constraintFor() returns null without a constraint and rejects bad ones", async () => {
  const { tokenizer } = await tinyLlama();
  assert.equal(constraintFor({}, tokenizer), null);
  assert.equal(constraintFor({ response_format: { type: "text" } }, tokenizer), null);
  const bad = [
    { response_format: { type: "json_object" as const }, constraint: { choices: ["a"] } },
    { constraint: { regex: "(a" } },
    { constraint: { choices: [] } },
    { constraint: { nope: 1 } as unknown as { regex: string } },
    {
      response_format: {
        type: "json_schema" as const,
        json_schema: { name: "x", schema: { type: "number", multipleOf: 3 } },
      },
    },
  ];
  for (const request of bad) {
    assert.throws(
      () => constraintFor(request, tokenizer),
      (e: Error) => errorCode(e) === "E_USAGE",
    );
  }
});

Deno.test("TokenConstraint.allowedAt() allows EOS only on complete outputs", async () => {
  const { tokenizer } = await tinyLlama();
  const c = tokenConstraintFor({ constraint: { regex: "ab|abc" } }, tokenizer, { maxTokens: 8 })!;
  const eos = tokenizer.eosTokenIds;
  const a = tokenizer.encode("a", { addSpecialTokens: false });
  const ab = tokenizer.encode("ab", { addSpecialTokens: false });
  const has = (ids: Int32Array, t: number) => ids.includes(t);
  assert.ok(!eos.some((t) => has(c.allowedAt([]), t)));
  assert.ok(!eos.some((t) => has(c.allowedAt(a), t)));
  assert.ok(eos.every((t) => has(c.allowedAt(ab), t)));
  assert.ok(c.isComplete(ab));
  assert.ok(!c.isComplete(a));
  assert.throws(() => c.allowedAt(tokenizer.encode("x", { addSpecialTokens: false })), RangeError);
});
