import assert from "node:assert/strict";
import { join } from "node:path";
import { ScriptedChatModel } from "../chat/testing/mod.ts";
import { errorCode } from "../errors.ts";
import { startServer } from "./server/serve.ts";
import { ModelResolver, parseModelSpec } from "./model_spec.ts";

Deno.test("parseModelSpec() reads every documented form and names what is wrong", () => {
  assert.deepEqual(parseModelSpec("openai:gpt-4o"), { kind: "openai", model: "gpt-4o" });
  assert.deepEqual(parseModelSpec("http://127.0.0.1:8000/v1/#ada"), {
    kind: "url",
    baseURL: "http://127.0.0.1:8000/v1",
    model: "ada",
  });
  assert.deepEqual(parseModelSpec("https://example.org/v1"), {
    kind: "url",
    baseURL: "https://example.org/v1",
  });
  assert.deepEqual(parseModelSpec("dramatis+http://10.0.0.2:8000/v1#ada"), {
    kind: "url",
    baseURL: "http://10.0.0.2:8000/v1",
    model: "ada",
    extensions: "dramatis",
  });
  assert.deepEqual(parseModelSpec("persona:./ada.json"), { kind: "persona", file: "./ada.json" });
  assert.deepEqual(parseModelSpec("./models/tiny"), { kind: "local", path: "./models/tiny" });
  assert.throws(() => parseModelSpec(" "), (e) => errorCode(e) === "E_USAGE");
  assert.throws(() => parseModelSpec("openai:"), /names no model/);
  assert.throws(() => parseModelSpec("persona:"), /names no persona file/);
});

Deno.test("ModelResolver caches under a persona, so its prompt is part of the key", async () => {
  const dir = await Deno.makeTempDir();
  const backend = new ScriptedChatModel();
  let calls = 0;
  const server = startServer({
    port: 0,
    resolve: () => ({
      id: "s",
      chat: (r) => {
        calls++;
        return backend.chat(r);
      },
      stream: (r) => backend.stream(r),
    }),
    listModels: () => [{ id: "s" }],
  });
  try {
    const url = `${server.url}/v1`;
    const write = (name: string, prompt: string) =>
      Deno.writeTextFile(
        join(dir, `${name}.json`),
        JSON.stringify({ name, model: `${url}#s`, system_prompt: prompt }),
      );
    await write("a", "You are A.");
    await write("b", "You are B.");
    const cachePath = join(dir, "cache.sqlite");
    const ask = { messages: [{ role: "user" as const, content: "hi" }], max_tokens: 4 };
    const resolver = new ModelResolver({ cachePath });
    await (await resolver.get(`persona:${join(dir, "a.json")}`)).chat(ask);
    await (await resolver.get(`persona:${join(dir, "a.json")}`)).chat(ask);
    assert.equal(calls, 1, "the repeated call is a cache hit");
    await (await resolver.get(`persona:${join(dir, "b.json")}`)).chat(ask);
    assert.equal(calls, 2, "another persona's prompt is another cache key");
    // A URL without #<name> takes the first model the server lists.
    await (await resolver.get(url)).chat({ ...ask, max_tokens: 5 });
    assert.equal(calls, 3);
    resolver.close();
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
