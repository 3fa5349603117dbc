import assert from "node:assert/strict";
import { collectChunks } from "../chunks.ts";
import { ScriptedChatModel, scriptedLogprob } from "./scripted_chat_model.ts";

const messages = [{ role: "user" as const, content: "hello there" }];

Deno.test("ScriptedChatModel.chat() applies max_tokens, stop, n and logprobs", async () => {
  const m = new ScriptedChatModel({ reply: (_r, i) => `a b c STOP d ${i}` });
  const r = await m.chat({ messages, n: 2, stop: " STOP", logprobs: true, top_logprobs: 2 });
  assert.equal(r.choices.length, 2);
  assert.equal(r.choices[0].message.content, "a b c");
  assert.equal(r.choices[0].finish_reason, "stop");
  assert.deepEqual(
    r.choices[0].logprobs!.content.map((t) => t.logprob),
    [0, 1, 2].map(scriptedLogprob),
  );
  assert.equal(r.choices[0].logprobs!.content[1].top_logprobs[1].token, "alt1");
  const short = await m.chat({ messages, max_tokens: 2 });
  assert.equal(short.choices[0].message.content, "a b");
  assert.equal(short.choices[0].finish_reason, "length");
  assert.deepEqual(short.usage, { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 });
  assert.equal(m.calls.length, 2);
});

Deno.test("ScriptedChatModel.stream() yields what chat() returns", async () => {
  const m = new ScriptedChatModel();
  const chunks = [];
  for await (const c of m.stream({ messages, logprobs: true, n: 2 })) chunks.push(c);
  const streamed = collectChunks(chunks);
  const full = await m.chat({ messages, logprobs: true, n: 2 });
  assert.deepEqual(streamed.choices, full.choices);
});

Deno.test("ScriptedChatModel.stream() pauses until aborted and counts the abort", async () => {
  const m = new ScriptedChatModel({ pauseAfterChunks: 1 });
  const controller = new AbortController();
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const c of m.stream({ messages, signal: controller.signal })) {
      const t = c.choices[0]?.delta.content;
      if (t) {
        seen.push(t);
        controller.abort();
      }
    }
  });
  assert.equal(seen.length, 1);
  assert.equal(m.aborts, 1);
  await m.whenAborted(1);
});
