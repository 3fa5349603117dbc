import assert from "node:assert/strict";
import type { ChatModel, ChatRequest, ChatResponse } from "../contracts/chat_model.ts";
import { errorCode } from "../errors.ts";
import { chatJson, extractJson, extractJsonDetailed } from "./json_extract.ts";

Deno.test("extractJsonDetailed() parses clean JSON directly", () => {
  const r = extractJsonDetailed(' {"a": [1, 2], "b": null} ');
  assert.deepEqual(r, { value: { a: [1, 2], b: null }, method: "direct" });
});

Deno.test("extractJson() takes the body of a code fence with prose around it", () => {
  const text = 'Here is the result:\n```json\n{"name": "Ada", "age": 31}\n```\nHope it helps!';
  assert.deepEqual(extractJson(text), { name: "Ada", age: 31 });
});

Deno.test("extractJson() repairs trailing commas, single quotes and Python literals", () => {
  const text = "{'ok': True, 'none': None, 'list': [1, 2, 3,], 'say': 'It\\'s fine',}";
  assert.deepEqual(extractJson(text), { ok: true, none: null, list: [1, 2, 3], say: "It's fine" });
});

Deno.test("extractJson() keeps apostrophes inside single-quoted strings", () => {
  assert.deepEqual(extractJson("{'say': 'Tom's ledger'}"), { say: "Tom's ledger" });
});

Deno.test("extractJson() escapes raw newlines and unescaped inner quotes in strings", () => {
  const text = '{"message": "line one\nline two", "q": "she said "no" twice"}';
  assert.deepEqual(extractJson(text), { message: "line one\nline two", q: 'she said "no" twice' });
});

Deno.test("extractJson() quotes bare keys", () => {
  assert.deepEqual(extractJson("{name: 'Ada', n: 2}"), { name: "Ada", n: 2 });
});

Deno.test("extractJson() closes a truncated string and its brackets", () => {
  const r = extractJsonDetailed('{"plots": [{"summary": "A storm", "chars": ["Ada", "To');
  assert.equal(r.method, "closed");
  assert.deepEqual(r.value, { plots: [{ summary: "A storm", chars: ["Ada", "To"] }] });
});

Deno.test("extractJson() cuts a dangling key back to the last complete element", () => {
  const r = extractJsonDetailed('[{"a": 1}, {"a": 2, "b"');
  assert.equal(r.method, "closed");
  assert.deepEqual(r.value, [{ a: 1 }, { a: 2 }]);
  assert.deepEqual(extractJson('{"a": 1, "b":'), { a: 1, b: null });
});

Deno.test("extractJson() falls back to the longest decodable object", () => {
  // the first opener's span is broken beyond repair (a bare word value), later objects are fine
  const text = 'noise {"x": undefined} then {"a": 1} and {"longer": [1, 2, 3]} end';
  const r = extractJsonDetailed(text, { expect: "object" });
  assert.equal(r.method, "longest");
  assert.deepEqual(r.value, { longer: [1, 2, 3] });
});

Deno.test("extractJson() honours expect: array", () => {
  assert.deepEqual(extractJson('Result {"n": 1} list: [1, 2]', { expect: "array" }), [1, 2]);
});

Deno.test("extractJson() throws a coded SyntaxError when there is no JSON", () => {
  assert.throws(() => extractJson("no json here"), (e: unknown) => {
    assert.ok(e instanceof SyntaxError);
    assert.match(e.message, /no JSON object or array found in the reply "no json here"/);
    assert.equal(errorCode(e), "E_DATA");
    return true;
  });
});

/** Replies with scripted texts in order and records each request. */
class ScriptedModel implements ChatModel {
  readonly id = "scripted";
  requests: ChatRequest[] = [];
  #replies: (string | Error)[];
  constructor(replies: (string | Error)[]) {
    this.#replies = replies;
  }
  chat(request: ChatRequest): Promise<ChatResponse> {
    this.requests.push(request);
    const r = this.#replies.shift();
    if (r === undefined) throw new Error("script exhausted");
    if (r instanceof Error) return Promise.reject(r);
    return Promise.resolve({
      id: "x",
      model: this.id,
      created: 0,
      choices: [{ index: 0, message: { role: "assistant", content: r }, finish_reason: "stop" }],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    });
  }
  stream(): AsyncIterable<never> {
    throw new Error("not used");
  }
}

const ask: ChatRequest = { messages: [{ role: "user", content: "json please" }] };
const needsN = (v: unknown) => {
  const n = (v as { n?: unknown }).n;
  if (typeof n !== "number") throw new TypeError(`n is ${JSON.stringify(n)}; expected a number`);
  return v as { n: number };
};

Deno.test("chatJson() returns the first valid value at temperature 0", async () => {
  const m = new ScriptedModel(['{"n": 4}']);
  const r = await chatJson(m, ask, { validate: needsN });
  assert.deepEqual(r, {
    ok: true,
    value: { n: 4 },
    raw: '{"n": 4}',
    attempts: 1,
    method: "direct",
  });
  assert.equal(m.requests[0].temperature, 0);
});

Deno.test("chatJson() asks the model to repair unparseable output with the parse error", async () => {
  const m = new ScriptedModel(["I cannot format that.", '{"n": 2}']);
  const r = await chatJson(m, ask, { validate: needsN });
  assert.ok(r.ok);
  assert.equal(r.method, "repair");
  assert.match(m.requests[1].messages[1].content, /no JSON object or array found/);
  assert.match(m.requests[1].messages[1].content, /I cannot format that\./);
});

Deno.test("chatJson() retries at temperature 1 with validation feedback", async () => {
  const m = new ScriptedModel(['{"n": "two"}', new Error("503"), '{"n": 2}']);
  const failures: string[] = [];
  const r = await chatJson(m, ask, { validate: needsN, onFailure: (_a, e) => failures.push(e) });
  assert.ok(r.ok);
  assert.equal(r.attempts, 3);
  assert.deepEqual(m.requests.map((q) => q.temperature), [0, 1, 1]);
  assert.equal(failures[0], 'invalid value: n is "two"; expected a number');
  assert.equal(failures[1], "model error: 503");
  // attempt 1 carried feedback about attempt 0; attempt 2 starts over after a model error
  assert.equal(m.requests[1].messages.length, 3);
  assert.equal(m.requests[2].messages.length, 1);
});

Deno.test("chatJson() makes each retry a new sample: seed + attempt, and an attempt field", async () => {
  const m = new ScriptedModel(['{"n": "a"}', '{"n": "b"}', '{"n": 3}']);
  const r = await chatJson(m, { ...ask, seed: 10 }, { validate: needsN });
  assert.ok(r.ok);
  const sent = m.requests as (typeof m.requests[number] & { attempt?: number })[];
  assert.deepEqual(sent.map((q) => q.seed), [10, 11, 12]);
  assert.deepEqual(sent.map((q) => q.attempt), [undefined, 1, 2]);
});

Deno.test("chatJson() gives up after maxRetries with the longest raw reply", async () => {
  const m = new ScriptedModel(['{"n": "a"}', '{"n": "bbb"}', '{"n": "c"}']);
  const r = await chatJson(m, ask, { validate: needsN, maxRetries: 2 });
  assert.equal(r.ok, false);
  assert.equal(r.raw, '{"n": "bbb"}');
  assert.equal(r.attempts, 3);
  if (!r.ok) assert.match(r.reason, /^invalid value: n is "c"/);
});
