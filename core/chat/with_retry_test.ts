import assert from "node:assert/strict";
import type { ChatChunk, ChatModel, ChatRequest } from "../contracts/chat_model.ts";
import { errorCode } from "../errors.ts";
import { ScriptedChatModel } from "./testing/mod.ts";
import { isRetryable, retryAfterMs, withRetry } from "./with_retry.ts";

const messages = [{ role: "user" as const, content: "hi" }];

function httpError(status: number, headers: Record<string, string> = {}, code?: string) {
  return Object.assign(new Error(`HTTP ${status}`), {
    status,
    headers: new Headers(headers),
    code,
  });
}

function recorder() {
  const delays: number[] = [];
  return { delays, sleep: (ms: number) => (delays.push(ms), Promise.resolve()) };
}

Deno.test("retryAfterMs() reads retry-after-ms, seconds and HTTP dates", () => {
  assert.equal(retryAfterMs(httpError(429, { "retry-after-ms": "250" })), 250);
  assert.equal(retryAfterMs(httpError(429, { "retry-after": "3" })), 3000);
  const now = Date.parse("2025-01-01T00:00:00Z");
  assert.equal(
    retryAfterMs(httpError(503, { "retry-after": "Wed, 01 Jan 2025 00:00:05 GMT" }), now),
    5000,
  );
  assert.equal(retryAfterMs(httpError(503)), undefined);
});

Deno.test("isRetryable() accepts 429 and 5xx but not 4xx or exhausted quota", () => {
  assert.equal(isRetryable(httpError(429)), true);
  assert.equal(isRetryable(httpError(502)), true);
  assert.equal(isRetryable(httpError(400)), false);
  assert.equal(isRetryable(httpError(429, {}, "insufficient_quota")), false);
  assert.equal(isRetryable(new TypeError("bad field")), false);
});

Deno.test("withRetry() retries 429 and 5xx with jittered backoff honouring retry-after", async () => {
  const failures = [httpError(429, { "retry-after": "2" }), httpError(503), httpError(500)];
  const inner = new ScriptedChatModel({ fail: (_r, call) => failures[call - 1] });
  const { delays, sleep } = recorder();
  const model = withRetry(inner, { retries: 3, baseDelayMs: 100, random: () => 0.5, sleep });
  const r = await model.chat({ messages });
  assert.equal(r.choices[0].message.content, "echo: hi");
  assert.equal(inner.calls.length, 4);
  // retry 1: max(retry-after 2000, 0.5*100); retry 2: 0.5*200; retry 3: 0.5*400
  assert.deepEqual(delays, [2000, 100, 200]);
});

Deno.test("withRetry() gives up after `retries` and does not retry a 400", async () => {
  const always = new ScriptedChatModel({ fail: () => httpError(503) });
  const { sleep } = recorder();
  await assert.rejects(withRetry(always, { retries: 2, sleep }).chat({ messages }), /HTTP 503/);
  assert.equal(always.calls.length, 3);
  const bad = new ScriptedChatModel({ fail: () => httpError(400) });
  await assert.rejects(withRetry(bad, { retries: 2, sleep }).chat({ messages }), /HTTP 400/);
  assert.equal(bad.calls.length, 1);
});

Deno.test("withRetry() times out a hung attempt and retries it", async () => {
  let calls = 0;
  const hangsOnce: ChatModel = {
    id: "h",
    chat(request: ChatRequest) {
      calls++;
      if (calls > 1) return new ScriptedChatModel().chat(request);
      return new Promise((_, reject) =>
        request.signal!.addEventListener("abort", () => reject(new Error("aborted")))
      );
    },
    stream: () => {
      throw new Error("unused");
    },
  };
  const { sleep } = recorder();
  const r = await withRetry(hangsOnce, { timeoutMs: 5, sleep }).chat({ messages });
  assert.equal(r.choices[0].message.content, "echo: hi");
  assert.equal(calls, 2);
});

Deno.test("withRetry() reports the timeout with E_LIMIT when retries run out", async () => {
  const hangs: ChatModel = {
    id: "h",
    chat: (request) =>
      new Promise((_, reject) =>
        request.signal!.addEventListener("abort", () => reject(new Error("aborted")))
      ),
    stream: () => {
      throw new Error("unused");
    },
  };
  const { sleep } = recorder();
  await assert.rejects(
    withRetry(hangs, { retries: 1, timeoutMs: 5, sleep }).chat({ messages }),
    (e) => errorCode(e) === "E_LIMIT" && (e as Error).name === "TimeoutError",
  );
});

Deno.test("withRetry() retries a stream only before its first chunk", async () => {
  const before = new ScriptedChatModel({
    fail: (_r, call) => call === 1 ? httpError(502) : undefined,
  });
  const { sleep } = recorder();
  const chunks: ChatChunk[] = [];
  for await (const c of withRetry(before, { sleep }).stream({ messages })) chunks.push(c);
  assert.equal(before.calls.length, 2);
  assert.ok(chunks.length > 2);

  let calls = 0;
  const midway: ChatModel = {
    id: "m",
    chat: () => Promise.reject(new Error("unused")),
    async *stream() {
      calls++;
      yield {
        id: "x",
        model: "m",
        created: 0,
        choices: [{ index: 0, delta: { content: "a" }, finish_reason: null }],
      };
      throw httpError(503);
    },
  };
  await assert.rejects(async () => {
    for await (const _ of withRetry(midway, { sleep }).stream({ messages })) { /* drain */ }
  }, /HTTP 503/);
  assert.equal(calls, 1);
});

Deno.test("withRetry() does not retry the caller's own abort", async () => {
  const controller = new AbortController();
  controller.abort(new Error("caller stopped"));
  const inner = new ScriptedChatModel();
  await assert.rejects(
    withRetry(inner, recorder()).chat({ messages, signal: controller.signal }),
    /caller stopped/,
  );
  assert.equal(inner.calls.length, 1);
});
