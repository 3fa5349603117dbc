import assert from "node:assert/strict";
import type { ChatModel, ChatRequest, ChatResponse } from "../../core/contracts/chat_model.ts";
import { Prng } from "../../core/util/prng.ts";
import { generateProfile } from "./profile_generator.ts";
import { cosine, expandOnce, pickParagraph, scoreParagraphs } from "./story_expansion.ts";

const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;

Deno.test("cosine() matches hand values", () => {
  assert.ok(close(cosine([1, 0], [1, 1]), Math.SQRT1_2));
  assert.equal(cosine([0, 0], [1, 1]), 0);
  assert.throws(() => cosine([1], [1, 2]), RangeError);
});

Deno.test("scoreParagraphs() weighs importance 80, elaborateness 100, redundancy 120", () => {
  // p0 = [1,0], p1 = [0,1], p2 = [1,1]/√2; story summary [1,0]; own summaries equal the paragraphs
  const p = [[1, 0], [0, 1], [1, 1]];
  const s = scoreParagraphs(p, [1, 0], p);
  const r = Math.SQRT1_2;
  assert.ok(close(s[0], 80 * 1 + 100 + 120 * ((1 - 0) + (1 - r)) / 2));
  assert.ok(close(s[1], 80 * 0 + 100 + 120 * ((1 - 0) + (1 - r)) / 2));
  assert.ok(close(s[2], 80 * r + 100 + 120 * ((1 - r) + (1 - r)) / 2));
  assert.deepEqual(scoreParagraphs([[1, 0]], [1, 0], [[0, 1]]), [80]);
});

Deno.test("pickParagraph() picks among the top 5 and stops below the threshold", () => {
  const scores = [10, 90, 80, 70, 60, 55, 20];
  for (let s = 0; s < 40; s++) {
    const i = pickParagraph(scores, new Prng(s));
    assert.ok(i !== null && [1, 2, 3, 4, 5].includes(i));
  }
  assert.equal(pickParagraph([49, 10], new Prng(1)), null);
  // n > 20 → top ⌊n/10⌋+1 = 3
  const many = Array.from({ length: 25 }, (_, i) => i + 100);
  for (let s = 0; s < 40; s++) assert.ok(pickParagraph(many, new Prng(s))! >= 22);
});

class FnModel implements ChatModel {
  readonly requests: ChatRequest[] = [];
  constructor(readonly id: string, private fn: (r: ChatRequest) => string) {}
  chat(request: ChatRequest): Promise<ChatResponse> {
    this.requests.push(request);
    return Promise.resolve({
      id: "x",
      model: this.id,
      created: 0,
      choices: [{
        index: 0,
        message: { role: "assistant", content: this.fn(request) },
        finish_reason: "stop",
      }],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    });
  }
  stream(): AsyncIterable<never> {
    throw new Error("not used");
  }
}

Deno.test("expandOnce() replaces the picked paragraph with the writer's paragraphs", async () => {
  const writer = new FnModel("w", () => "Expanded one.\nExpanded two.");
  const summarizer = new FnModel("s", (r) => `sum:${r.messages[1].content.slice(0, 5)}`);
  // orthogonal paragraph vectors make every redundancy 1 → scores ≥ 120
  const embed = (t: string[]) =>
    Promise.resolve(
      t.map((_, i) => [i % 3 === 0 ? 1 : 0, i % 3 === 1 ? 1 : 0, i % 3 === 2 ? 1 : 0]),
    );
  const cache = new Map<string, string>();
  const step = await expandOnce(["A.", "B.", "C."], {
    profile: generateProfile(1),
    writer,
    summarizer,
    embed,
    rng: new Prng(1),
    summaryCache: cache,
  });
  assert.ok(step);
  assert.equal(step.paragraphs.length, 4);
  assert.deepEqual(step.paragraphs.slice(step.index, step.index + 2), [
    "Expanded one.",
    "Expanded two.",
  ]);
  assert.equal(summarizer.requests.length, 4); // story + 3 paragraphs
  assert.equal(cache.size, 3);
  assert.equal(writer.requests[0].top_p, 0.95);
});
