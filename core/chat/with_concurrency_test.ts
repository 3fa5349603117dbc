import assert from "node:assert/strict";
import type { ChatModel, ChatRequest } from "../contracts/chat_model.ts";
import { ScriptedChatModel } from "./testing/mod.ts";
import { withConcurrency } from "./with_concurrency.ts";

Deno.test("withConcurrency() never lets more than `limit` requests run at once", async () => {
  const inner = new ScriptedChatModel();
  let running = 0;
  let peak = 0;
  const gated: ChatModel = {
    id: inner.id,
    async chat(request: ChatRequest) {
      running++;
      peak = Math.max(peak, running);
      for (let i = 0; i < 5; i++) await Promise.resolve();
      try {
        return await inner.chat(request);
      } finally {
        running--;
      }
    },
    stream: (r) => inner.stream(r),
  };
  const model = withConcurrency(gated, { limit: 3 });
  const replies = await Promise.all(
    Array.from(
      { length: 12 },
      (_, i) => model.chat({ messages: [{ role: "user", content: `q${i}` }] }),
    ),
  );
  assert.equal(replies.length, 12);
  assert.equal(peak, 3);
  assert.equal(model.limiter.inFlight, 0);
});

Deno.test("withConcurrency() releases a stream's slot when the consumer stops early", async () => {
  const model = withConcurrency(new ScriptedChatModel(), { limit: 1 });
  for await (const _ of model.stream({ messages: [{ role: "user", content: "a b c" }] })) break;
  assert.equal(model.limiter.inFlight, 0);
  const r = await model.chat({ messages: [{ role: "user", content: "x" }] });
  assert.equal(r.choices[0].message.content, "echo: x");
});
