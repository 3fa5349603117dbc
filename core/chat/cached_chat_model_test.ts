import assert from "node:assert/strict";
import { join } from "node:path";
import type { ChatChunk } from "../contracts/chat_model.ts";
import { CachedChatModel, cacheKey } from "./cached_chat_model.ts";
import { collectChunks } from "./chunks.ts";
import { ScriptedChatModel } from "./testing/mod.ts";

const request = {
  messages: [{ role: "user" as const, content: "tell me a story" }],
  temperature: 0,
  logprobs: true,
};

async function drain(it: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const out: ChatChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}

Deno.test("cacheKey() ignores field order and the signal but not attempt", async () => {
  const a = await cacheKey("m", request);
  assert.equal(
    a,
    await cacheKey("m", { logprobs: true, temperature: 0, messages: request.messages }),
  );
  assert.equal(a, await cacheKey("m", { ...request, signal: new AbortController().signal }));
  assert.equal(a, await cacheKey("m", { ...request, attempt: 0 }));
  assert.notEqual(a, await cacheKey("m", { ...request, attempt: 1 }));
  assert.notEqual(a, await cacheKey("other", request));
  assert.notEqual(a, await cacheKey("m", { ...request, temperature: 1 }));
});

Deno.test("CachedChatModel answers a repeat without the inner model and survives reopening", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "nested", "cache.sqlite");
  try {
    const inner = new ScriptedChatModel();
    const first = new CachedChatModel(inner, { path });
    const a = await first.chat(request);
    const b = await first.chat({ ...request });
    assert.deepEqual(b, a);
    assert.equal(inner.calls.length, 1);
    assert.deepEqual(first.stats, { hits: 1, misses: 1 });
    first.close();

    const fresh = new ScriptedChatModel();
    const reopened = new CachedChatModel(fresh, { path });
    assert.deepEqual(await reopened.chat(request), a);
    assert.equal(fresh.calls.length, 0);
    assert.equal(reopened.size, 1);
    // A distinct attempt is a distinct entry and reaches the inner model without the field.
    await reopened.chat({ ...request, attempt: 1 });
    assert.equal(fresh.calls.length, 1);
    assert.equal("attempt" in fresh.calls[0], false);
    reopened.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CachedChatModel streams a cached response and fills the cache from a stream", async () => {
  const inner = new ScriptedChatModel();
  const cache = new CachedChatModel(inner, { path: ":memory:" });
  const streamed = await drain(cache.stream(request));
  assert.equal(inner.calls.length, 1);
  const full = await cache.chat(request);
  assert.equal(inner.calls.length, 1);
  assert.deepEqual(full.choices, collectChunks(streamed).choices);
  const again = await drain(cache.stream(request));
  assert.equal(inner.calls.length, 1);
  assert.deepEqual(collectChunks(again), full);
  cache.close();
});

Deno.test("CachedChatModel does not cache a stream its consumer abandoned", async () => {
  const inner = new ScriptedChatModel();
  const cache = new CachedChatModel(inner, { path: ":memory:" });
  for await (const _ of cache.stream(request)) break;
  assert.equal(cache.size, 0);
  await cache.chat(request);
  assert.equal(inner.calls.length, 2);
  cache.close();
});
