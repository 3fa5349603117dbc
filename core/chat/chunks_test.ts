import assert from "node:assert/strict";
import type { ChatResponse } from "../contracts/chat_model.ts";
import { collectChunks, responseToChunks, splitPieces } from "./chunks.ts";

const response: ChatResponse = {
  id: "r1",
  model: "m",
  created: 7,
  usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
  choices: [
    {
      index: 0,
      finish_reason: "stop",
      message: { role: "assistant", content: "Hello  big world" },
    },
    {
      index: 1,
      finish_reason: "length",
      message: { role: "assistant", content: "ab" },
      logprobs: {
        content: [
          { token: "a", logprob: -0.5, top_logprobs: [] },
          { token: "b", logprob: -1.5, top_logprobs: [] },
        ],
      },
    },
  ],
};

Deno.test("splitPieces() concatenates back to the text", () => {
  for (const s of ["", " ", "a", "Hello,  big world\n", "  lead"]) {
    assert.equal(splitPieces(s).join(""), s);
  }
  assert.deepEqual(splitPieces("Hello big"), ["Hello", " big"]);
});

Deno.test("responseToChunks() then collectChunks() round-trips a response", () => {
  const chunks = responseToChunks(response);
  assert.deepEqual(chunks.at(-1)!.choices, []);
  assert.deepEqual(chunks.at(-1)!.usage, response.usage);
  assert.deepEqual(collectChunks(chunks), response);
});

Deno.test("collectChunks() gives zero usage when the stream has none", () => {
  const r = collectChunks([{
    id: "x",
    model: "m",
    created: 1,
    choices: [{ index: 0, delta: { content: "hi" }, finish_reason: null }],
  }]);
  assert.deepEqual(r.usage, { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  assert.equal(r.choices[0].finish_reason, "stop");
});
