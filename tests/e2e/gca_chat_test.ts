/**
 * `gca chat` and `gca persona` on a tiny model: one `--message` turn in the CoSER chat format, and
 * the persona file served by `dramatis serve` answering the official `openai` client with the same
 * reply (greedy decoding, same prompt). Also run on a released CoSER book when ../shared is present.
 */

import { sharedTestCache } from "../test_cache.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import OpenAI from "openai";
import type { PluginCommand } from "../../core/contracts/plugin.ts";
import { parseArgs } from "../../core/host/args.ts";
import type { ServerHandle } from "../../core/host/server/serve.ts";
import { createServeVerb } from "../../core/host/verbs/serve.ts";
import { createTinyModel } from "../../core/model/tiny.ts";
import { PluginRegistry } from "../../core/plugin/registry.ts";
import { ModelHub } from "../../core/services/model_hub.ts";
import { commandContext } from "../../core/services/plugin_context.ts";
import { chatCommand, personaCommand } from "../../plugins/gca/commands/chat_command.ts";

async function run(cmd: PluginCommand, argv: string[], json = true): Promise<string> {
  const args = parseArgs(json ? [...argv, "--json"] : argv, cmd.flags ?? {}, `gca ${cmd.name}`);
  const printed: string[] = [];
  const log = console.log;
  console.log = (...xs: unknown[]) => printed.push(xs.join(" "));
  const ctx = commandContext({ json });
  try {
    const code = await cmd.run(args, ctx);
    assert.equal(code ?? 0, 0);
  } finally {
    console.log = log;
    await ctx.models.close();
  }
  return printed.join("\n");
}

const BOOK = {
  plots: [{
    text: "The storm rose.",
    summary: "Tom keeps the light through a storm.",
    key_characters: [{
      name: "Tom Venn",
      description: "The keeper.",
      summary: "He keeps the lamp lit.",
    }],
    conversation: [],
  }],
  character_datasets: { "Tom Venn": { profile: "Tom Venn keeps the lighthouse on Gull Rock." } },
};

const UPSTREAM_OTHELLO =
  new URL("../../../shared/upstream/coser/data/final/Othello.json", import.meta.url)
    .pathname;

Deno.test("gca chat --message answers in the CoSER format and gca persona serves the same reply to the openai client", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gca_chat_" });
  sharedTestCache();
  let server: ServerHandle | undefined;
  const controller = new AbortController();
  let hub: ModelHub | undefined;
  let serving: Promise<unknown> | undefined;
  try {
    const model = join(dir, "tiny");
    await createTinyModel(model, { preset: "tiny-llama", seed: 3 });
    const bookFile = join(dir, "The Light.json");
    await Deno.writeTextFile(bookFile, JSON.stringify(BOOK));
    const message = "(knocks on the door) Is the lamp lit?";
    const common = ["--book", bookFile, "--character", "tom venn"];
    const chat = JSON.parse(
      await run(chatCommand, [
        ...common,
        "--model",
        model,
        "--message",
        message,
        "--temperature",
        "0",
        "--max-tokens",
        "12",
      ]),
    );
    assert.equal(chat.character, "Tom Venn");
    assert.equal(chat.book, "The Light");
    assert.equal(chat.messages[0].role, "system");
    assert.ok(chat.messages[0].content.startsWith("Play the role of Tom Venn from The Light."));
    assert.ok(chat.messages[0].content.includes("Tom Venn keeps the lighthouse on Gull Rock."));
    assert.deepEqual(chat.messages[1], { role: "user", content: message });
    const reply: string = chat.turns[0].reply;
    assert.ok(reply.length > 0, "the tiny model answered");
    // The history keeps the reply in the CoSER transcript form "Name: …".
    assert.ok(chat.messages[2].content.startsWith("Tom Venn: "));
    // The rendered segments rebuild the reply's text.
    const flat = chat.turns[0].segments.map((s: { text: string }) => s.text).join(" ");
    assert.equal(
      flat.replace(/\s+/g, ""),
      reply.replace(/^Tom Venn:/, "").replace(/[\s[\]()]+/g, ""),
    );

    // Human-readable output: the reply rendered after the character's name.
    const text = await run(chatCommand, [
      ...common,
      "--model",
      model,
      "--message",
      message,
      "--temperature",
      "0",
      "--max-tokens",
      "12",
    ], false);
    assert.ok(text.startsWith("Tom Venn: "), text);

    // The persona file, served.
    const personas = join(dir, "personas");
    await Deno.mkdir(personas);
    const written = JSON.parse(
      await run(personaCommand, [...common, "--model", model, "--out", personas]),
    );
    assert.equal(written.persona, "tom-venn");
    const persona = JSON.parse(await Deno.readTextFile(written.file));
    assert.equal(persona.system_prompt, chat.messages[0].content);
    const registry = new PluginRegistry();
    hub = new ModelHub({ registry });
    const listening = Promise.withResolvers<void>();
    const verb = createServeVerb({
      onListen: (s) => {
        server = s;
        listening.resolve();
      },
    });
    const args = parseArgs(
      ["--model", model, "--personas", personas, "--port", "0", "--api-key", "k"],
      verb.flags!,
      "dramatis serve",
    );
    serving = Promise.resolve(verb.run!(args, {
      registry,
      pluginOptions: new Map(),
      models: hub,
      json: false,
      log: () => {},
      signal: controller.signal,
    }));
    await listening.promise;
    const client = new OpenAI({ baseURL: `${server!.url}/v1`, apiKey: "k", maxRetries: 0 });
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.ok(ids.includes("tom-venn"), ids.join(", "));
    const r = await client.chat.completions.create({
      model: "tom-venn",
      messages: [{ role: "user", content: message }],
      temperature: 0,
      max_tokens: 12,
    });
    assert.equal(
      r.choices[0].message.content,
      reply,
      "served persona = gca chat on the same prompt",
    );
  } finally {
    controller.abort();
    await serving?.catch(() => {});
    await hub?.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "gca persona reads a released CoSER book (Othello) as released",
  ignore: !(() => {
    try {
      return Deno.statSync(UPSTREAM_OTHELLO).isFile;
    } catch {
      console.warn("skipped: ../shared/upstream/coser is absent");
      return false;
    }
  })(),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const out = join(dir, "iago.json");
      await run(personaCommand, [
        "--book",
        UPSTREAM_OTHELLO,
        "--character",
        "Iago",
        "--model",
        "./tiny",
        "--out",
        out,
      ]);
      const persona = JSON.parse(await Deno.readTextFile(out));
      assert.equal(persona.char_name, "Iago");
      assert.ok(persona.system_prompt.startsWith("Play the role of Iago from Othello."));
      assert.ok(persona.system_prompt.length > 300, "the released profile is in the prompt");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("gca chat reads turns from standard input until /quit and saves the transcript", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gca_chat_stdin_" });
  try {
    const model = join(dir, "tiny");
    await createTinyModel(model, { preset: "tiny-llama", seed: 3 });
    const bookFile = join(dir, "The Light.json");
    await Deno.writeTextFile(bookFile, JSON.stringify(BOOK));
    const saved = join(dir, "chat.json");
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../../main.ts", import.meta.url).pathname,
        "gca",
        "chat",
        "--book",
        bookFile,
        "--character",
        "Tom Venn",
        "--user-name",
        "Ada",
        "--model",
        model,
        "--temperature",
        "0",
        "--max-tokens",
        "6",
        "--save",
        saved,
      ],
      env: { NO_COLOR: "1", DRAMATIS_CACHE: join(dir, "cache") },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(
      new TextEncoder().encode("Hello there\n\n(waves) Still awake?\n/quit\nignored\n"),
    );
    await w.close();
    const out = await child.output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.equal((stdout.match(/Tom Venn: /g) ?? []).length, 2, stdout);
    assert.ok(stdout.includes("Ada> "), stdout);
    const t = JSON.parse(await Deno.readTextFile(saved));
    assert.deepEqual(t.turns.map((x: { user: string }) => x.user), [
      "Hello there",
      "(waves) Still awake?",
    ]);
    // CoSER's multi-character form: the user's turns carry their character's name.
    assert.deepEqual(
      t.messages.filter((m: { role: string }) => m.role === "user").map((m: { content: string }) =>
        m.content
      ),
      ["Ada: Hello there", "Ada: (waves) Still awake?"],
    );
    assert.ok(t.messages[0].content.includes("You are talking with Ada"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
