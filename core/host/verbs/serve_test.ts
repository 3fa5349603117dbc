import assert from "node:assert/strict";
import { join } from "node:path";
import OpenAI from "openai";
import { ScriptedChatModel } from "../../chat/testing/mod.ts";
import { errorCode } from "../../errors.ts";
import { createTinyModel } from "../../model/tiny.ts";
import { PluginRegistry } from "../../plugin/registry.ts";
import { hasCudaProvider } from "../../runtime/providers.ts";
import { ModelHub } from "../../services/model_hub.ts";
import { parseArgs } from "../args.ts";
import { RUN_FLAGS } from "../cli.ts";
import type { ServerHandle } from "../server/serve.ts";
import type { HostContext } from "../verb.ts";
import { createServeVerb, defaultPersonaName, serveVerb } from "./serve.ts";

function context(
  controller: AbortController,
  logs: string[],
  models = new ModelHub(),
): HostContext {
  return {
    registry: new PluginRegistry(),
    pluginOptions: new Map(),
    models,
    json: false,
    log: (m) => logs.push(m),
    signal: controller.signal,
  };
}

Deno.test("defaultPersonaName() names the bare model after its last segment", () => {
  assert.equal(defaultPersonaName("./models/tiny-llama/"), "tiny-llama");
  assert.equal(defaultPersonaName("HuggingFaceTB/SmolLM2-135M"), "SmolLM2-135M");
  assert.equal(defaultPersonaName("openai:gpt-4o-mini"), "gpt-4o-mini");
});

Deno.test("serve verb starts a server with an injected backend and stops on the signal", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "personas"));
    await Deno.writeTextFile(
      join(dir, "personas", "ada.json"),
      JSON.stringify({ name: "ada", model: "./tiny", system_prompt: "You are {{char}}." }),
    );
    const backend = new ScriptedChatModel();
    const built: string[] = [];
    let server: ServerHandle | undefined;
    const listening = Promise.withResolvers<void>();
    const verb = createServeVerb({
      backend: (persona) => (built.push(persona.name), backend),
      onListen: (s) => {
        server = s;
        listening.resolve();
      },
    });
    const argv = [
      "--model",
      "./tiny",
      "--personas",
      join(dir, "personas"),
      "--port",
      "0",
      "--api-key",
      "k",
      "--admin-key",
      "a",
      "--max-tokens",
      "64",
    ];
    const args = parseArgs(argv, verb.flags!, "dramatis serve");
    const controller = new AbortController();
    const logs: string[] = [];
    const running = verb.run!(args, context(controller, logs));
    await listening.promise;
    assert.deepEqual(built, ["tiny"]); // the base persona is built at start
    const client = new OpenAI({ baseURL: `${server!.url}/v1`, apiKey: "k", maxRetries: 0 });
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.deepEqual(ids, ["ada", "tiny"]);
    const r = await client.chat.completions.create({
      model: "ada",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(r.choices[0].message.content, "echo: hi");
    assert.equal(backend.calls[0].messages[0].content, "You are ada.");
    assert.equal(backend.calls[0].max_tokens, 64);
    await assert.rejects(
      client.chat.completions.create({
        model: "ada",
        messages: [{ role: "user", content: "hi" }],
        max_tokens: 65,
      }),
      (e) => (e as { status?: number }).status === 400,
    );
    assert.match(logs.join("\n"), /Serving 2 persona\(s\) at http:\/\/127\.0\.0\.1:\d+\/v1/);
    controller.abort();
    assert.equal(await running, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve --provider/--threads reach the onnxruntime session; cuda here is E_PROVIDER", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const model = join(dir, "m");
    await createTinyModel(model, { preset: "tiny-llama", seed: 3 });
    const argv = ["--model", model, "--port", "0", "--provider", "cpu", "--threads", "1"];
    const flags = { ...serveVerb.flags!, ...RUN_FLAGS };
    const args = parseArgs(argv, flags, "dramatis serve");
    const hub = new ModelHub({ cacheDir: join(dir, "g") }).with({
      provider: args.flags.provider as "cpu",
      threads: args.flags.threads as number,
    });
    const controller = new AbortController();
    const verb = createServeVerb({ onListen: () => controller.abort() });
    assert.equal(await verb.run!(args, context(controller, [], hub)), 0);
    // The engine serve built is the hub's shared one for these settings.
    const engine = await hub.engine(model);
    assert.equal(engine.session.provider, "cpu");
    assert.equal(engine.session.intraOpThreads, 1);
    await hub.close();

    if (!hasCudaProvider()) {
      const cuda = new ModelHub({ cacheDir: join(dir, "g"), provider: "cuda" });
      const cudaArgs = parseArgs(["--model", model, "--port", "0"], flags, "dramatis serve");
      await assert.rejects(
        Promise.resolve(serveVerb.run!(cudaArgs, context(new AbortController(), [], cuda))),
        (e) => errorCode(e) === "E_PROVIDER" && /cuda/.test((e as Error).message),
      );
      await cuda.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve verb rejects --admin-key without --personas", async () => {
  const verb = createServeVerb({ backend: () => new ScriptedChatModel() });
  const args = parseArgs(["--model", "m", "--admin-key", "a"], verb.flags!, "dramatis serve");
  await assert.rejects(
    Promise.resolve(verb.run!(args, context(new AbortController(), []))),
    /--personas/,
  );
});

Deno.test("serve verb key rules: an empty key or an open non-loopback host needs --no-auth", async () => {
  const verb = createServeVerb({ backend: () => new ScriptedChatModel() });
  const run = (argv: string[]) =>
    Promise.resolve(
      verb.run!(parseArgs(argv, verb.flags!, "dramatis serve"), context(new AbortController(), [])),
    );
  await assert.rejects(
    run(["--model", "m", "--api-key", ""]),
    (e) => errorCode(e) === "E_USAGE" && /--api-key is empty.*--no-auth/.test((e as Error).message),
  );
  await assert.rejects(
    run(["--model", "m", "--host", "0.0.0.0"]),
    (e) => errorCode(e) === "E_USAGE" && /without a key/.test((e as Error).message),
  );
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "file"), "x");
    await assert.rejects(
      run(["--model", "m", "--personas", join(dir, "file")]),
      (e) => errorCode(e) === "E_USAGE" && /is a file/.test((e as Error).message),
    );
    await assert.rejects(
      run(["--model", "m", "--vectors", join(dir, "missing")]),
      (e) => errorCode(e) === "E_USAGE" && /does not exist/.test((e as Error).message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve verb reads the key from --api-key-file and never logs it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "key"), "from-file-key\n");
    let server: ServerHandle | undefined;
    const listening = Promise.withResolvers<void>();
    const verb = createServeVerb({
      backend: () => new ScriptedChatModel(),
      onListen: (s) => {
        server = s;
        listening.resolve();
      },
    });
    const args = parseArgs(
      ["--model", "m", "--port", "0", "--api-key-file", join(dir, "key")],
      verb.flags!,
      "dramatis serve",
    );
    const controller = new AbortController();
    const logs: string[] = [];
    const running = verb.run!(args, context(controller, logs));
    await listening.promise;
    const denied = await fetch(`${server!.url}/v1/models`);
    assert.equal(denied.status, 401);
    await denied.body?.cancel();
    const ok = await fetch(`${server!.url}/v1/models`, {
      headers: { authorization: "Bearer from-file-key" },
    });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    controller.abort();
    assert.equal(await running, 0);
    assert.doesNotMatch(logs.join("\n"), /from-file-key/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
