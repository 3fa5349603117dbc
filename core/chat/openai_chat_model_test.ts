import assert from "node:assert/strict";
import { APIError } from "openai";
import type { ChatChunk } from "../contracts/chat_model.ts";
import { OpenAIChatModel } from "./openai_chat_model.ts";
import { withRetry } from "./with_retry.ts";
import { strictOpenAI } from "./testing/strict_openai.ts";

/** A hand-written fake endpoint: records bodies and answers with fixed OpenAI-shaped payloads. */
async function withFakeServer(
  answer: (body: Record<string, unknown>, n: number) => Response,
  fn: (baseURL: string, bodies: Record<string, unknown>[], headers: Headers[]) => Promise<void>,
) {
  const bodies: Record<string, unknown>[] = [];
  const headers: Headers[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json();
    bodies.push(body);
    headers.push(req.headers);
    return answer(body, bodies.length);
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}/v1`, bodies, headers);
  } finally {
    await server.shutdown();
  }
}

const completion = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 123,
  model: "gpt-test",
  system_fingerprint: "fp_1",
  choices: [{
    index: 0,
    message: { role: "assistant", content: "Hi!", refusal: null },
    finish_reason: "stop",
    logprobs: {
      content: [{
        token: "Hi!",
        logprob: -0.25,
        bytes: [72, 105, 33],
        top_logprobs: [{ token: "Hi!", logprob: -0.25, bytes: null }],
      }],
    },
  }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
};

Deno.test("OpenAIChatModel.chat() maps the request out and the response back", async () => {
  await withFakeServer(() => Response.json(completion), async (baseURL, bodies, headers) => {
    const model = new OpenAIChatModel({
      baseURL,
      apiKey: "k1",
      model: "gpt-test",
      extensions: "dramatis",
    });
    const r = await model.chat({
      messages: [{ role: "user", content: "hello", name: "bob" }],
      max_tokens: 7,
      seed: 3,
      stop: ["\n"],
      n: 1,
      logprobs: true,
      top_logprobs: 1,
      response_format: {
        type: "json_schema",
        json_schema: { name: "x", schema: { type: "object" } },
      },
      steering: [{ vector: "v.safetensors", coefficient: 2, layer: 3 }],
      extensions: { identities: ["EXT_high"] },
    });
    assert.deepEqual(bodies[0], {
      model: "gpt-test",
      messages: [{ role: "user", content: "hello", name: "bob" }],
      max_tokens: 7,
      seed: 3,
      stop: ["\n"],
      n: 1,
      logprobs: true,
      top_logprobs: 1,
      response_format: {
        type: "json_schema",
        json_schema: { name: "x", schema: { type: "object" } },
      },
      steering: [{ vector: "v.safetensors", coefficient: 2, layer: 3 }],
      identities: ["EXT_high"],
      stream: false,
    });
    assert.equal(headers[0].get("authorization"), "Bearer k1");
    assert.deepEqual(r, {
      id: "chatcmpl-1",
      model: "gpt-test",
      created: 123,
      choices: [{
        index: 0,
        message: { role: "assistant", content: "Hi!" },
        finish_reason: "stop",
        logprobs: {
          content: [{
            token: "Hi!",
            logprob: -0.25,
            top_logprobs: [{ token: "Hi!", logprob: -0.25 }],
          }],
        },
      }],
      usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
      metadata: { system_fingerprint: "fp_1" },
    });
  });
});

Deno.test("OpenAIChatModel.stream() parses SSE chunks and asks for usage", async () => {
  const events = [
    {
      id: "c",
      object: "chat.completion.chunk",
      created: 1,
      model: "m",
      choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }],
    },
    {
      id: "c",
      object: "chat.completion.chunk",
      created: 1,
      model: "m",
      choices: [{ index: 0, delta: { content: "Hel" }, finish_reason: null }],
    },
    {
      id: "c",
      object: "chat.completion.chunk",
      created: 1,
      model: "m",
      choices: [{ index: 0, delta: { content: "lo" }, finish_reason: "length" }],
    },
    {
      id: "c",
      object: "chat.completion.chunk",
      created: 1,
      model: "m",
      choices: [],
      usage: { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 },
    },
  ];
  const sse = events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join("") + "data: [DONE]\n\n";
  await withFakeServer(
    () => new Response(sse, { headers: { "content-type": "text/event-stream" } }),
    async (baseURL, bodies) => {
      const model = new OpenAIChatModel({ baseURL, model: "m" });
      const chunks: ChatChunk[] = [];
      for await (const c of model.stream({ messages: [{ role: "user", content: "x" }] })) {
        chunks.push(c);
      }
      assert.equal(bodies[0].stream, true);
      assert.deepEqual(bodies[0].stream_options, { include_usage: true });
      assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), "Hello");
      assert.equal(chunks[2].choices[0].finish_reason, "length");
      assert.deepEqual(chunks[3].usage, {
        prompt_tokens: 2,
        completion_tokens: 2,
        total_tokens: 4,
      });
    },
  );
});

Deno.test("OpenAIChatModel errors carry status and retry-after for withRetry", async () => {
  const answer = (_b: unknown, n: number) =>
    n === 1
      ? Response.json(
        {
          error: {
            message: "slow down",
            type: "rate_limit_error",
            param: null,
            code: "rate_limited",
          },
        },
        { status: 429, headers: { "retry-after-ms": "1" } },
      )
      : Response.json(completion);
  await withFakeServer(answer, async (baseURL, bodies) => {
    const plain = new OpenAIChatModel({ baseURL, model: "m" });
    await assert.rejects(
      plain.chat({ messages: [{ role: "user", content: "x" }] }),
      (e) => e instanceof APIError && e.status === 429,
    );
    const delays: number[] = [];
    const model = withRetry(new OpenAIChatModel({ baseURL, model: "m" }), {
      sleep: (ms) => (delays.push(ms), Promise.resolve()),
      random: () => 0,
    });
    bodies.length = 0;
    const r = await model.chat({ messages: [{ role: "user", content: "x" }] });
    assert.equal(r.choices[0].message.content, "Hi!");
    assert.equal(bodies.length, 2);
    assert.deepEqual(delays, [1]);
  });
});

Deno.test("OpenAIChatModel() without key or base URL fails with E_CONFIG", () => {
  const saved = { key: Deno.env.get("OPENAI_API_KEY"), url: Deno.env.get("OPENAI_BASE_URL") };
  Deno.env.delete("OPENAI_API_KEY");
  Deno.env.delete("OPENAI_BASE_URL");
  try {
    assert.throws(() => new OpenAIChatModel({ model: "m" }), /OPENAI_API_KEY/);
  } finally {
    if (saved.key) Deno.env.set("OPENAI_API_KEY", saved.key);
    if (saved.url) Deno.env.set("OPENAI_BASE_URL", saved.url);
  }
});

Deno.test("OpenAIChatModel leaves extensions out for a strict endpoint and warns once", async () => {
  const api = strictOpenAI();
  try {
    const warnings: string[] = [];
    const model = new OpenAIChatModel({
      baseURL: api.baseURL,
      apiKey: "k",
      model: "gpt-4o",
      onWarning: (m) => warnings.push(m),
    });
    const request = {
      messages: [{ role: "user" as const, content: "hi" }],
      extensions: {
        identities: ["EXT_high"],
        projections: { vectors: ["v.safetensors"], layer: 3 },
      },
      steering: [{ vector: "v.safetensors", coefficient: 2, layer: 3 }],
      constraint: { choices: ["a", "b"] },
      top_k: 5,
      repetition_penalty: 1.1,
      seed: 1,
    };
    for (let i = 0; i < 3; i++) await model.chat(request);
    for await (const _ of model.stream(request)) { /* drain */ }
    assert.deepEqual(api.requests.filter((r) => r.rejected).map((r) => r.error), []);
    const sent = api.requests.filter((r) => r.body);
    assert.equal(sent.length, 4);
    for (const r of sent) {
      for (const k of ["identities", "steering", "projections", "constraint", "top_k"]) {
        assert.ok(!(k in r.body!), k);
      }
      assert.equal(r.body!.seed, 1);
    }
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /prompt-only baseline/);
    // Requests without extensions never ask the endpoint what it is.
    const plain = new OpenAIChatModel({ baseURL: api.baseURL, apiKey: "k", model: "gpt-4o" });
    const before = api.requests.length;
    await plain.chat({ messages: [{ role: "user", content: "hi" }] });
    assert.deepEqual(api.requests.slice(before).map((r) => r.path), ["/v1/chat/completions"]);
    // The stand-in itself rejects an extension, as OpenAI does.
    const forced = new OpenAIChatModel({
      baseURL: api.baseURL,
      apiKey: "k",
      model: "gpt-4o",
      extensions: "dramatis",
      maxRetries: 0,
    });
    await assert.rejects(forced.chat(request), /Unrecognized request argument supplied: /);
  } finally {
    await api.close();
  }
});

Deno.test("OpenAIChatModel sends extensions to a server whose model list is owned_by dramatis", async () => {
  const bodies: Record<string, unknown>[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    if (req.method === "GET") {
      return Response.json({
        object: "list",
        data: [{ id: "keeper", object: "model", created: 0, owned_by: "dramatis" }],
      });
    }
    bodies.push(await req.json());
    return Response.json(completion);
  });
  try {
    const warnings: string[] = [];
    const model = new OpenAIChatModel({
      baseURL: `http://127.0.0.1:${server.addr.port}/v1`,
      apiKey: "k",
      model: "keeper",
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(await model.acceptsExtensions(), true);
    await model.chat({
      messages: [{ role: "user", content: "hi" }],
      extensions: { identities: ["Doctor"] },
    });
    assert.deepEqual(bodies[0].identities, ["Doctor"]);
    assert.deepEqual(warnings, []);
    // OpenAI's own API is never asked and never sent extensions.
    assert.equal(
      await new OpenAIChatModel({ apiKey: "k", model: "gpt-4o" }).acceptsExtensions(),
      false,
    );
  } finally {
    await server.shutdown();
  }
});
