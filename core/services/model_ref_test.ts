import assert from "node:assert/strict";
import { join } from "node:path";
import { ScriptedChatModel } from "../chat/testing/mod.ts";
import { errorCode } from "../errors.ts";
import { startServer } from "../host/server/serve.ts";
import { ModelHub } from "./model_hub.ts";
import { formatModelRef, parseModelRef } from "./model_ref.ts";
import { ModelResolver } from "./model_resolver.ts";

Deno.test("parseModelRef() reads every documented form and names what is wrong", () => {
  assert.deepEqual(parseModelRef("openai:gpt-4o"), { kind: "openai", model: "gpt-4o" });
  assert.deepEqual(parseModelRef("http://127.0.0.1:8000/v1/#ada"), {
    kind: "url",
    baseURL: "http://127.0.0.1:8000/v1",
    model: "ada",
  });
  assert.deepEqual(parseModelRef("https://example.org/v1"), {
    kind: "url",
    baseURL: "https://example.org/v1",
  });
  assert.deepEqual(parseModelRef("dramatis+http://10.0.0.2:8000/v1#ada"), {
    kind: "url",
    baseURL: "http://10.0.0.2:8000/v1",
    model: "ada",
    extensions: "dramatis",
  });
  assert.deepEqual(parseModelRef("persona:./ada.json"), { kind: "persona", file: "./ada.json" });
  assert.deepEqual(parseModelRef("./models/tiny"), { kind: "local", path: "./models/tiny" });
  assert.throws(() => parseModelRef(" "), (e) => errorCode(e) === "E_USAGE");
  assert.throws(() => parseModelRef("openai:"), /names no model/);
  assert.throws(() => parseModelRef("persona:"), /names no persona file/);
  for (
    const s of [
      "openai:gpt-4o",
      "http://h:1/v1#m",
      "dramatis+http://h:1/v1#m",
      "persona:a.json",
      "./m",
    ]
  ) {
    assert.equal(formatModelRef(parseModelRef(s)), s);
  }
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
    const resolver = new ModelResolver({ hub: new ModelHub(), cachePath });
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
