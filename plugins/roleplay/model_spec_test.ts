import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { closeSharedEngines } from "../../core/host/model_factory.ts";
import { createTinyModel } from "../../core/model/tiny.ts";
import { modelShortName, openModelSpec, parseModelSpec } from "./model_spec.ts";

Deno.test("parseModelSpec() reads the four forms", () => {
  assert.deepEqual(parseModelSpec("openai:gpt-4o-mini"), { kind: "openai", model: "gpt-4o-mini" });
  assert.deepEqual(parseModelSpec("http://127.0.0.1:8000/v1/#ada"), {
    kind: "url",
    baseURL: "http://127.0.0.1:8000/v1",
    model: "ada",
  });
  assert.deepEqual(parseModelSpec("persona:personas/ada.json"), {
    kind: "persona",
    file: "personas/ada.json",
  });
  assert.deepEqual(parseModelSpec("./models/tiny"), { kind: "local", path: "./models/tiny" });
  assert.deepEqual(parseModelSpec("HuggingFaceTB/SmolLM2-135M"), {
    kind: "local",
    path: "HuggingFaceTB/SmolLM2-135M",
  });
});

Deno.test("parseModelSpec() rejects what it cannot read, naming the syntax", () => {
  const usage = (why: RegExp) => (e: Error) =>
    (e as { code?: string }).code === "E_USAGE" && why.test(e.message) &&
    e.message.includes("persona:<file.json>");
  assert.throws(() => parseModelSpec("  "), usage(/is empty/));
  assert.throws(() => parseModelSpec("openai:"), usage(/names no model/));
  assert.throws(() => parseModelSpec("http://127.0.0.1:8000/v1"), usage(/without '#<model name>'/));
  assert.throws(
    () => parseModelSpec("http://127.0.0.1:8000/v1#"),
    usage(/without '#<model name>'/),
  );
  assert.throws(() => parseModelSpec("persona:"), usage(/names no persona file/));
  assert.throws(() => parseModelSpec("ada.json"), usage(/written persona:ada\.json/));
});

Deno.test("modelShortName() gives folder-safe names", () => {
  assert.equal(modelShortName("http://h:8000/v1#mistralai/Mixtral-8x7B"), "Mixtral-8x7B");
  assert.equal(modelShortName("openai:gpt-4o"), "gpt-4o");
  assert.equal(modelShortName("persona:./personas/ada.json"), "ada");
  assert.equal(modelShortName("models/tiny/"), "tiny");
  assert.equal(modelShortName("openai:a b:c"), "a_b_c");
});

Deno.test("openModelSpec() opens servers, persona files and local models", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const remote = await openModelSpec("http://127.0.0.1:9/v1#ada");
    assert.equal(remote.id, "openai:ada@http://127.0.0.1:9/v1");

    const onRemote = join(dir, "bob.json");
    await Deno.writeTextFile(
      onRemote,
      JSON.stringify({ name: "bob", model: "http://127.0.0.1:9/v1#base" }),
    );
    assert.equal(
      (await openModelSpec(`persona:${onRemote}`)).id,
      "persona:bob@openai:base@http://127.0.0.1:9/v1",
    );

    const loop = join(dir, "loop.json");
    await Deno.writeTextFile(loop, JSON.stringify({ name: "loop", model: `persona:${loop}` }));
    await assert.rejects(openModelSpec(`persona:${loop}`), /not a base model/);
    await assert.rejects(
      openModelSpec(`persona:${join(dir, "no.json")}`),
      /cannot be read as JSON/,
    );

    await createTinyModel(join(dir, "tiny"), { preset: "tiny-llama", seed: 1 });
    const local = await openModelSpec(join(dir, "tiny"));
    assert.equal(local.id, `local:${resolve(dir, "tiny")}`);
    // The persona's relative model directory is found next to the persona file.
    const ada = join(dir, "ada.json");
    await Deno.writeTextFile(
      ada,
      JSON.stringify({ name: "ada", model: "tiny", system_prompt: "Hi." }),
    );
    const persona = await openModelSpec(`persona:${ada}`);
    assert.equal(persona.id, `persona:ada@local:${resolve(dir, "tiny")}`);
    const r = await persona.chat({
      messages: [{ role: "user", content: "hello" }],
      max_tokens: 2,
      seed: 1,
    });
    assert.equal(r.model, "ada");
    assert.ok(r.usage.completion_tokens <= 2);
  } finally {
    await closeSharedEngines();
    await Deno.remove(dir, { recursive: true });
  }
});
