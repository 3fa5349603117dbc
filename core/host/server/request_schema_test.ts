import assert from "node:assert/strict";
import { parseChatCompletionBody } from "./request_schema.ts";

const base = { model: "ada", messages: [{ role: "user", content: "hi" }] };

Deno.test("fields OpenAI clients send by default or on request are accepted and change nothing", () => {
  // Values in the shapes the openai SDKs send (openai-node 6/7, openai-python 1.x/2.x).
  const sent = {
    logit_bias: { "50256": -100 },
    metadata: { run: "1" },
    store: false,
    service_tier: "auto",
    parallel_tool_calls: true,
    tool_choice: "none",
    modalities: ["text"],
    reasoning_effort: "low",
    verbosity: "low",
    prompt_cache_key: "user-42",
    safety_identifier: "hashed-user",
    web_search_options: {},
    user: "u1",
    stream_options: { include_usage: true },
    max_completion_tokens: 7,
  };
  for (const [key, value] of Object.entries(sent)) {
    const body = parseChatCompletionBody({ ...base, [key]: value });
    assert.equal(body.extensions, undefined, key);
  }
  const all = parseChatCompletionBody({ ...base, ...sent });
  assert.equal(all.max_completion_tokens, 7);
});

Deno.test("a field that is neither OpenAI's, Dramatis' nor a loaded plugin's is a 400 naming it", () => {
  assert.throws(
    () => parseChatCompletionBody({ ...base, moods: ["calm"] }),
    (e: Error & { status?: number }) =>
      e.status === 400 && /^moods: unrecognized request argument/.test(e.message),
  );
});
