import assert from "node:assert/strict";
import { scriptedLogprob } from "../../chat/testing/mod.ts";
import { withServer } from "./testing/harness.ts";
import { IDENTITIES_EXTENSION } from "../../../plugins/hirpf/mod.ts";
import { PROJECTIONS_EXTENSION } from "../../../plugins/persona_vectors/mod.ts";

const user = (content: string) => [{ role: "user" as const, content }];

Deno.test("POST /v1/chat/completions answers in the OpenAI shape", async () => {
  await withServer({}, async ({ client, backend }) => {
    const r = await client.chat.completions.create({
      model: "echo",
      messages: user("hello world"),
      seed: 7,
    });
    assert.equal(r.object, "chat.completion");
    assert.equal(r.model, "echo");
    assert.equal(r.system_fingerprint, "fp_dramatis");
    assert.equal(r.choices[0].message.role, "assistant");
    assert.equal(r.choices[0].message.content, "echo: hello world");
    assert.equal(r.choices[0].finish_reason, "stop");
    assert.deepEqual(r.usage, { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 });
    assert.equal(backend.calls[0].seed, 7);
    assert.equal(backend.calls[0].max_tokens, 512); // the server's default
  });
});

Deno.test("POST /v1/chat/completions streams SSE chunks ending with usage and [DONE]", async () => {
  await withServer({}, async ({ client, baseURL }) => {
    const stream = await client.chat.completions.create({
      model: "echo",
      messages: user("stream me please"),
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage;
    const finishes: (string | null)[] = [];
    for await (const chunk of stream) {
      assert.equal(chunk.object, "chat.completion.chunk");
      for (const c of chunk.choices) {
        text += c.delta.content ?? "";
        finishes.push(c.finish_reason);
      }
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, "echo: stream me please");
    assert.equal(finishes.at(-1), "stop");
    assert.deepEqual(usage, { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });

    // The raw wire: data lines and the [DONE] sentinel, no usage without include_usage.
    const raw = await fetch(`${baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "echo", messages: user("a b"), stream: true }),
    });
    assert.match(raw.headers.get("content-type")!, /^text\/event-stream/);
    const events = (await raw.text()).split("\n\n").filter(Boolean);
    assert.equal(events.at(-1), "data: [DONE]");
    for (const e of events.slice(0, -1)) {
      assert.ok(e.startsWith("data: "));
      assert.equal("usage" in JSON.parse(e.slice(6)), false);
    }
  });
});

Deno.test("POST /v1/chat/completions passes response_format, stop, seed and steering through", async () => {
  await withServer({ requestExtensions: [IDENTITIES_EXTENSION] }, async ({ client, backend }) => {
    const response_format = {
      type: "json_schema" as const,
      json_schema: {
        name: "reply",
        schema: { type: "object", properties: { echo: { type: "string" } } },
        strict: true,
      },
    };
    const r = await client.chat.completions.create({
      model: "echo",
      messages: user("json please"),
      response_format,
    });
    assert.deepEqual(backend.calls[0].response_format, response_format);
    assert.equal(JSON.parse(r.choices[0].message.content!).echo, "json please");

    const body = {
      model: "echo",
      messages: user("one two three four"),
      stop: [" three"],
      seed: 42,
      steering: [{ vector: "bold.safetensors", coefficient: 4, layer: 2, positions: "all" }],
      identities: ["EXT_high", "Doctor"],
    };
    // deno-lint-ignore no-explicit-any
    const s = await client.chat.completions.create(body as any);
    assert.equal(s.choices[0].message.content, "echo: one two");
    const call = backend.calls[1];
    assert.deepEqual(call.stop, [" three"]);
    assert.equal(call.seed, 42);
    assert.deepEqual(call.extensions, { identities: ["EXT_high", "Doctor"] });
    assert.deepEqual(call.steering, [{
      vector: "bold.safetensors",
      coefficient: 4,
      layer: 2,
      positions: "all",
      type: "add",
    }]);
  });
});

Deno.test("POST /v1/chat/completions returns logprobs with bytes and n choices", async () => {
  await withServer({}, async ({ client }) => {
    const r = await client.chat.completions.create({
      model: "echo",
      messages: user("héllo"),
      logprobs: true,
      top_logprobs: 2,
      n: 3,
    });
    assert.equal(r.choices.length, 3);
    assert.deepEqual(r.choices.map((c) => c.message.content), [
      "echo: héllo",
      "echo 1: héllo",
      "echo 2: héllo",
    ]);
    const lp = r.choices[0].logprobs!.content!;
    assert.deepEqual(lp.map((t) => t.token), ["echo:", " héllo"]);
    assert.deepEqual(lp.map((t) => t.logprob), [scriptedLogprob(0), scriptedLogprob(1)]);
    assert.deepEqual(lp[1].bytes, [...new TextEncoder().encode(" héllo")]);
    assert.equal(lp[1].top_logprobs.length, 2);
    assert.equal(lp[1].top_logprobs[1].token, "alt1");
    assert.equal(r.usage!.completion_tokens, 2 + 3 + 3);
  });
});

Deno.test("GET /v1/models, /health and /metrics report the server", async () => {
  await withServer({}, async ({ client, server }) => {
    const models = [];
    for await (const m of client.models.list()) models.push(m);
    assert.deepEqual(models.map((m) => [m.id, m.object]), [["echo", "model"]]);
    assert.equal((await client.models.retrieve("echo")).id, "echo");
    await client.chat.completions.create({ model: "echo", messages: user("x") });
    const health = await (await fetch(`${server.url}/health`)).json();
    assert.equal(health.status, "ok");
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(
      text,
      /dramatis_http_requests_total\{method="POST",route="\/v1\/chat\/completions",status="200"\} 1/,
    );
    assert.match(text, /dramatis_tokens_total\{kind="completion"\} 2/);
    assert.match(
      text,
      /dramatis_http_request_duration_seconds_count\{method="POST",route="\/v1\/chat\/completions"\} 1/,
    );
    assert.match(text, /dramatis_queue_depth 0/);
    assert.match(text, /dramatis_in_flight 0/);
  });
});

Deno.test("plugin routes are mounted at /plugins/<name>", async () => {
  const plugin = {
    name: "demo",
    version: "0.1.0",
    description: "d",
    options: undefined as never,
    provides: [],
    create: () => ({}),
    routes: [
      { method: "GET" as const, path: "/ping", handler: () => Response.json({ pong: true }) },
      {
        method: "POST" as const,
        path: "/fail",
        handler: () => {
          throw new Error("boom");
        },
      },
    ],
  };
  await withServer({ plugins: [plugin], apiKey: "k" }, async ({ server }) => {
    const auth = { authorization: "Bearer k" };
    assert.deepEqual(
      await (await fetch(`${server.url}/plugins/demo/ping`, { headers: auth })).json(),
      { pong: true },
    );
    const denied = await fetch(`${server.url}/plugins/demo/ping`);
    assert.equal(denied.status, 401);
    await denied.body?.cancel();
    const failed = await fetch(`${server.url}/plugins/demo/fail`, {
      method: "POST",
      headers: auth,
    });
    assert.equal(failed.status, 500);
    // The details go to the server log; the client gets the request id only.
    const message = (await failed.json()).error.message;
    assert.match(message, /^internal error \(request req_[0-9a-f]{24}\)/);
    assert.doesNotMatch(message, /boom/);
    assert.match(failed.headers.get("x-request-id") ?? "", /^req_/);
  });
});

Deno.test("OpenAIChatModel talks to this server, Dramatis extras included", async () => {
  const { OpenAIChatModel } = await import("../../chat/openai_chat_model.ts");
  await withServer({ apiKey: "k", requestExtensions: [IDENTITIES_EXTENSION] }, async ({
    baseURL,
    backend,
  }) => {
    const model = new OpenAIChatModel({ baseURL, apiKey: "k", model: "echo" });
    const r = await model.chat({
      messages: user("via the client"),
      logprobs: true,
      top_logprobs: 1,
      steering: [{ vector: "v.safetensors", coefficient: 1.5, layer: 3 }],
      extensions: { identities: ["Doctor"] },
      top_k: 5,
    });
    assert.equal(r.choices[0].message.content, "echo: via the client");
    assert.equal(r.choices[0].logprobs!.content.length, 4);
    assert.equal(r.metadata?.system_fingerprint, "fp_dramatis");
    assert.deepEqual(backend.calls[0].extensions, { identities: ["Doctor"] });
    assert.equal((backend.calls[0].steering![0] as { coefficient: number }).coefficient, 1.5);
    assert.equal(backend.calls[0].top_k, 5);
    let text = "";
    for await (const c of model.stream({ messages: user("streamed") })) {
      text += c.choices[0]?.delta.content ?? "";
    }
    assert.equal(text, "echo: streamed");
  });
});

Deno.test("request extensions: declared ones are validated into ChatRequest.extensions, unknown fields are a 400", async () => {
  const plugin = {
    name: "pv",
    version: "1",
    description: "d",
    options: {} as never,
    provides: [] as const,
    create: () => ({}),
    requestExtensions: [PROJECTIONS_EXTENSION],
  };
  await withServer(
    { plugins: [plugin], requestExtensions: undefined },
    async ({ baseURL, backend }) => {
      const post = (body: Record<string, unknown>) =>
        fetch(`${baseURL}/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            model: "echo",
            messages: [{ role: "user", content: "a b" }],
            ...body,
          }),
        }).then(async (r) => ({ status: r.status, body: await r.json() }));
      // The plugin's extension (taken from AppOptions.plugins) arrives validated.
      const ok = await post({ projections: { vectors: ["calm"], layer: 2 } });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.deepEqual(backend.calls[0].extensions, {
        projections: { vectors: ["calm"], layer: 2 },
      });
      // A bad value names the sub-field.
      const bad = await post({ projections: { vectors: [], layer: 2 } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.param, "projections.vectors");
      assert.equal(bad.body.error.code, "invalid_value");
      // identities is not declared here (hirpf is not loaded): refused, naming what is offered.
      const unknown = await post({ identities: ["Doctor"] });
      assert.equal(unknown.status, 400);
      assert.equal(unknown.body.error.param, "identities");
      assert.match(unknown.body.error.message, /unrecognized request argument.*projections/);
      // OpenAI fields this server ignores are still accepted.
      const ignored = await post({ logit_bias: { "1": 2 }, parallel_tool_calls: false });
      assert.equal(ignored.status, 200, JSON.stringify(ignored.body));
      assert.equal(backend.calls.length, 2);
      assert.equal(backend.calls[1].extensions, undefined);
    },
  );
});
