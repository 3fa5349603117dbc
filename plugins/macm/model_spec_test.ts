import { ModelHub } from "../../core/services/model_hub.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ScriptedChatModel } from "../../core/chat/testing/mod.ts";
import { startServer } from "../../core/host/server/serve.ts";
import { openChatModel } from "./model_spec.ts";

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
    const a = await openChatModel(`${server.url}/v1`, {
      cache: join(dir, "c.sqlite"),
      models: new ModelHub(),
    });
    assert.equal((await a.model.chat(request)).choices[0].message.content, "echo: hi");
    assert.equal(backend.calls[0].model, "first");
    a.close();
    const b = await openChatModel(`${server.url}/v1`, {
      cache: join(dir, "c.sqlite"),
      models: new ModelHub(),
    });
    await b.model.chat(request);
    assert.equal(backend.calls.length, 1); // the second process-like open hits the file
    assert.deepEqual(b.cache!.stats, { hits: 1, misses: 0 });
    b.close();
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
