import assert from "node:assert/strict";
import { join } from "node:path";
import { errorCode } from "../../core/errors.ts";
import { ScriptedChatModel } from "../../core/chat/testing/mod.ts";
import { startServer } from "../../core/host/server/serve.ts";
import { openChatModel, parseModelSpec } from "./model_spec.ts";

Deno.test("parseModelSpec() reads openai:, URL#name and local directories", () => {
  assert.deepEqual(parseModelSpec("openai:gpt-4o-mini"), { kind: "openai", model: "gpt-4o-mini" });
  assert.deepEqual(parseModelSpec("http://127.0.0.1:8000/v1/#hazel"), {
    kind: "url",
    baseURL: "http://127.0.0.1:8000/v1",
    model: "hazel",
  });
  assert.deepEqual(parseModelSpec("https://example.org/v1"), {
    kind: "url",
    baseURL: "https://example.org/v1",
  });
  assert.deepEqual(parseModelSpec("./models/tiny"), { kind: "local", path: "./models/tiny" });
  assert.throws(() => parseModelSpec(" "), (e) => errorCode(e) === "E_USAGE");
  assert.throws(() => parseModelSpec("openai:"), /openai:<name>/);
});

Deno.test("openChatModel() talks to a server, picks its first model and caches calls", async () => {
  const backend = new ScriptedChatModel();
  const server = startServer({
    port: 0,
    resolve: () => backend,
    listModels: () => [{ id: "first" }, { id: "second" }],
  });
  const dir = await Deno.makeTempDir();
  try {
    const request = { messages: [{ role: "user" as const, content: "hi" }] };
    const a = await openChatModel(`${server.url}/v1`, { cache: join(dir, "c.sqlite") });
    assert.equal((await a.model.chat(request)).choices[0].message.content, "echo: hi");
    assert.equal(backend.calls[0].model, "first");
    a.close();
    const b = await openChatModel(`${server.url}/v1`, { cache: join(dir, "c.sqlite") });
    await b.model.chat(request);
    assert.equal(backend.calls.length, 1); // the second process-like open hits the file
    assert.deepEqual(b.cache!.stats, { hits: 1, misses: 0 });
    b.close();
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
