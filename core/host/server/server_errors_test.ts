import assert from "node:assert/strict";
import {
  APIError,
  AuthenticationError,
  BadRequestError,
  NotFoundError,
  RateLimitError,
} from "openai";
import type { ChatModel } from "../../contracts/chat_model.ts";
import { ScriptedChatModel } from "../../chat/testing/mod.ts";
import { type Harness, withServer } from "./testing/harness.ts";

const user = (content: string) => [{ role: "user" as const, content }];

/** The server still answers a plain request. */
async function stillServes(h: Harness, client = h.client) {
  const r = await client.chat.completions.create({ model: "echo", messages: user("still here") });
  assert.equal(r.choices[0].message.content, "echo: still here");
}

function isOpenAIError(
  status: number,
  // deno-lint-ignore no-explicit-any
  cls: abstract new (...args: any[]) => APIError,
  check?: (e: APIError) => boolean,
) {
  return (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    const err = e as APIError;
    assert.equal(err.status, status);
    const body = err.error as { message: string; type: string; param: unknown; code: unknown };
    assert.equal(typeof body.message, "string");
    assert.equal(typeof body.type, "string");
    assert.ok("param" in body && "code" in body);
    return check ? check(err) : true;
  };
}

Deno.test("a bad key is 401 AuthenticationError and the server keeps serving", async () => {
  await withServer({ apiKey: "secret" }, async (h) => {
    const { default: OpenAI } = await import("openai");
    const wrong = new OpenAI({ baseURL: h.baseURL, apiKey: "wrong", maxRetries: 0 });
    await assert.rejects(
      wrong.chat.completions.create({ model: "echo", messages: user("x") }),
      isOpenAIError(401, AuthenticationError, (e) => e.code === "invalid_api_key"),
    );
    const none = await fetch(`${h.baseURL}/models`);
    assert.equal(none.status, 401);
    await none.body?.cancel();
    await stillServes(h);
    assert.equal((await fetch(`${h.server.url}/health`)).status, 200); // health stays open
  });
});

Deno.test("an unknown model is 404 NotFoundError with param model", async () => {
  await withServer({}, async (h) => {
    await assert.rejects(
      h.client.chat.completions.create({ model: "nobody", messages: user("x") }),
      isOpenAIError(404, NotFoundError, (e) => e.param === "model" && e.code === "model_not_found"),
    );
    await stillServes(h);
  });
});

Deno.test("a malformed body is 400 BadRequestError naming the field", async () => {
  await withServer({}, async (h) => {
    await assert.rejects(
      // deno-lint-ignore no-explicit-any
      h.client.chat.completions.create({ model: "echo", messages: "hi" } as any),
      isOpenAIError(400, BadRequestError, (e) => e.param === "messages"),
    );
    await assert.rejects(
      h.client.chat.completions.create({ model: "echo", messages: user("x"), temperature: 5 }),
      isOpenAIError(400, BadRequestError, (e) => e.param === "temperature"),
    );
    const raw = await fetch(`${h.baseURL}/chat/completions`, { method: "POST", body: "{not json" });
    assert.equal(raw.status, 400);
    assert.equal((await raw.json()).error.code, "invalid_json");
    await stillServes(h);
  });
});

Deno.test("an oversize body is 413 and the server keeps serving", async () => {
  await withServer({ limits: { maxBodyBytes: 2000 } }, async (h) => {
    await assert.rejects(
      h.client.chat.completions.create({ model: "echo", messages: user("x".repeat(5000)) }),
      isOpenAIError(413, APIError, (e) => e.code === "request_too_large"),
    );
    // Without content-length (a chunked upload) the limit holds while reading.
    const big = new TextEncoder().encode(
      JSON.stringify({ model: "echo", messages: user("z".repeat(5000)) }),
    );
    const chunked = await fetch(`${h.baseURL}/chat/completions`, {
      method: "POST",
      body: new ReadableStream({
        start(c) {
          for (let i = 0; i < big.length; i += 500) c.enqueue(big.slice(i, i + 500));
          c.close();
        },
      }),
    });
    assert.equal(chunked.status, 413);
    assert.equal((await chunked.json()).error.code, "request_too_large");
    await stillServes(h);
  });
});

Deno.test("max_tokens, n and context limits are 400 with the field", async () => {
  await withServer({ limits: { maxTokens: 16, maxN: 2, maxContextTokens: 40 } }, async (h) => {
    await assert.rejects(
      h.client.chat.completions.create({ model: "echo", messages: user("x"), max_tokens: 17 }),
      isOpenAIError(400, BadRequestError, (e) => e.param === "max_tokens"),
    );
    await assert.rejects(
      h.client.chat.completions.create({ model: "echo", messages: user("x"), n: 3 }),
      isOpenAIError(400, BadRequestError, (e) => e.param === "n"),
    );
    await assert.rejects(
      h.client.chat.completions.create({
        model: "echo",
        messages: user("y".repeat(200)),
        max_tokens: 8,
      }),
      isOpenAIError(400, BadRequestError, (e) => e.code === "context_length_exceeded"),
    );
    await stillServes(h);
  });
});

Deno.test("a request past the time limit is 504 and its generation is aborted", async () => {
  let aborted = 0;
  const hangs: ChatModel = {
    id: "hangs",
    chat: (request) =>
      new Promise((_, reject) =>
        request.signal!.addEventListener("abort", () => {
          aborted++;
          reject(request.signal!.reason);
        })
      ),
    stream: () => {
      throw new Error("unused");
    },
  };
  const fixed = [{ name: "echo", model: "base" }, { name: "stuck", model: "hangs" }];
  await withServer({ fixed, backends: { hangs }, limits: { requestTimeoutMs: 500 } }, async (h) => {
    await assert.rejects(
      h.client.chat.completions.create({ model: "stuck", messages: user("x") }),
      isOpenAIError(504, APIError, (e) => e.code === "timeout"),
    );
    assert.equal(aborted, 1);
    await stillServes(h);
    assert.match(
      await (await fetch(`${h.server.url}/metrics`)).text(),
      /dramatis_timeouts_total 1/,
    );
  });
});

Deno.test("20 concurrent streaming clients all complete through a queue of 4", async () => {
  await withServer({ limits: { maxConcurrent: 4, maxQueue: 64 } }, async (h) => {
    const texts = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const stream = await h.client.chat.completions.create({
        model: "echo",
        messages: user(`client ${i} says hello`),
        stream: true,
      });
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      return text;
    }));
    assert.deepEqual(texts, Array.from({ length: 20 }, (_, i) => `echo: client ${i} says hello`));
    assert.equal(h.server.app.limiter.inFlight, 0);
    assert.equal(h.server.app.limiter.queued, 0);
  });
});

Deno.test("a client that aborts mid-stream aborts its generation and frees its slot", async () => {
  const slow = new ScriptedChatModel({ pauseAfterChunks: 1 });
  const fixed = [{ name: "echo", model: "base" }, { name: "slow", model: "slow" }];
  await withServer({ fixed, backends: { slow }, limits: { maxConcurrent: 1 } }, async (h) => {
    const controller = new AbortController();
    const stream = await h.client.chat.completions.create(
      { model: "slow", messages: user("a long answer please"), stream: true },
      { signal: controller.signal },
    );
    let received = "";
    try {
      for await (const chunk of stream) {
        received += chunk.choices[0]?.delta.content ?? "";
        if (received) controller.abort(); // the SDK then ends the iteration (or throws)
      }
    } catch { /* an abort error is fine too */ }
    assert.equal(received, "echo:");
    await slow.whenAborted(1); // the backend saw the abort
    assert.equal(slow.aborts, 1);
    await stillServes(h); // the only slot is free again
    const metrics = await (await fetch(`${h.server.url}/metrics`)).text();
    assert.match(metrics, /dramatis_client_aborts_total 1/);
  });
});

Deno.test("a full queue is 429 RateLimitError with retry-after", async () => {
  const slow = new ScriptedChatModel({ pauseAfterChunks: 1 });
  const fixed = [{ name: "echo", model: "base" }, { name: "slow", model: "slow" }];
  await withServer(
    { fixed, backends: { slow }, limits: { maxConcurrent: 1, maxQueue: 0 } },
    async (h) => {
      const controller = new AbortController();
      const stream = await h.client.chat.completions.create(
        { model: "slow", messages: user("hold the slot"), stream: true },
        { signal: controller.signal },
      );
      const iterator = stream[Symbol.asyncIterator]();
      await iterator.next(); // the slot is taken
      await assert.rejects(
        h.client.chat.completions.create({ model: "echo", messages: user("x") }),
        isOpenAIError(
          429,
          RateLimitError,
          (e) => e.code === "queue_full" && e.headers?.get("retry-after") === "1",
        ),
      );
      controller.abort();
      await slow.whenAborted(1);
      await stillServes(h);
    },
  );
});

Deno.test("a backend that ignores the abort still gives its slot back at the time limit", async () => {
  // Like a read from a named pipe: the work never ends and never looks at its signal.
  const stuck: ChatModel = {
    id: "stuck",
    chat: () => new Promise(() => {}),
    // deno-lint-ignore require-yield
    async *stream() {
      await new Promise(() => {});
    },
  };
  await withServer({
    backends: { stuck },
    fixed: [{ name: "echo", model: "base" }, { name: "stuck", model: "stuck" }],
    limits: { requestTimeoutMs: 300, maxConcurrent: 1 },
    log: () => {},
  }, async (h) => {
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        h.client.chat.completions.create({ model: "stuck", messages: user("x") }),
        isOpenAIError(504, APIError, (e) => e.code === "timeout"),
      );
    }
    // The one slot is free again: a normal request is served at once.
    await stillServes(h);
    assert.equal(h.server.app.limiter.inFlight, 0);
  });
});
