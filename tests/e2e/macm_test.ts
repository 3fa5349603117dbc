/**
 * End to end: the macm plugin on a seeded tiny-llama served by our own OpenAI-compatible server.
 * The plugin's commands talk to the server with OpenAIChatModels behind a SQLite cache: they build
 * the shipped character's memory (first 4 of its 31 story paragraphs, to keep the run short),
 * answer its questionnaires (the first item of each type) with none / prompt / rag / macm, and run
 * the bandwagon experiment in both conditions; a rerun is answered from the cache alone. Then the
 * official `openai` client chats with a persona whose replies come from the MACM backend.
 *
 * Tiny-model replies are random text: the scores are numbers (mostly 0) and unreadable answers are
 * counted, never a crash.
 */

import { sharedTestCache } from "../test_cache.ts";
import { commandContext } from "../../core/services/plugin_context.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import OpenAI from "openai";
import { LocalChatModel } from "../../core/chat/local_chat_model.ts";
import type {
  ChatChunk,
  ChatModel,
  ChatRequest,
  ChatResponse,
} from "../../core/contracts/chat_model.ts";
import type { CommandContext, PluginCommand } from "../../core/contracts/plugin.ts";
import { PersonaSchema } from "../../core/contracts/persona.ts";
import { ModelHub } from "../../core/services/model_hub.ts";
import { PersonaResolver } from "../../core/host/server/persona_resolver.ts";
import { startServer } from "../../core/host/server/serve.ts";
import { Engine } from "../../core/model/engine.ts";
import { createTinyModel } from "../../core/model/tiny.ts";
import { PluginRegistry } from "../../core/plugin/registry.ts";
import { shippedCharacterDir } from "../../plugins/macm/character_dir.ts";
import { macm } from "../../plugins/macm/plugin.ts";

/** Counts the calls that reach the engine. */
class CountingModel implements ChatModel {
  readonly id: string;
  calls = 0;
  #inner: ChatModel;
  constructor(inner: ChatModel) {
    this.#inner = inner;
    this.id = inner.id;
  }
  chat(request: ChatRequest): Promise<ChatResponse> {
    this.calls++;
    return this.#inner.chat(request);
  }
  stream(request: ChatRequest): AsyncIterable<ChatChunk> {
    this.calls++;
    return this.#inner.stream(request);
  }
}

/** Runs a plugin command in --json mode and returns the document it printed. */
async function runJson(
  command: PluginCommand,
  flags: Record<string, string | number | boolean>,
): Promise<Record<string, unknown>> {
  const defaults = Object.fromEntries(
    Object.entries(command.flags ?? {}).filter(([, f]) => f.default !== undefined)
      .map(([k, f]) => [k, f.default!]),
  );
  const printed: string[] = [];
  const original = console.log;
  console.log = (...parts: unknown[]) => printed.push(parts.map(String).join(" "));
  const ctx: CommandContext = commandContext({ json: true });
  try {
    const status = await command.run(
      { flags: { ...defaults, ...flags, json: true }, positionals: [] },
      ctx,
    );
    assert.equal(status ?? 0, 0);
  } finally {
    console.log = original;
    await ctx.models.close();
  }
  return JSON.parse(printed.join("\n"));
}

Deno.test("macm end to end on tiny-llama through our server: memory, questionnaires, bandwagon, cache, persona", async () => {
  const dir = await Deno.makeTempDir({ prefix: "macm_e2e_" });
  sharedTestCache();
  const model = join(dir, "tiny-llama");
  await createTinyModel(model, { preset: "tiny-llama", seed: 5, maxPositionEmbeddings: 8192 });
  const engine = await Engine.load(model, { steering: true, cacheDir: join(dir, "graphs") });
  const counted = new CountingModel(new LocalChatModel(engine, { id: "tiny" }));
  const plugin = macm();
  const registry = new PluginRegistry();
  registry.register(plugin);
  const hub = new ModelHub({ registry });
  const command = (name: string) => plugin.commands!.find((c) => c.name === name)!;
  const memoryDir = join(dir, "memory");
  const hazel = PersonaSchema.parse({
    name: "hazel",
    model,
    description: "Hazel Okafor, answered by MACM",
    backend: {
      plugin: "macm",
      options: { character: shippedCharacterDir(), memory: memoryDir, agentMaxTokens: 8 },
    },
  });
  const resolver = new PersonaResolver({
    fixed: [PersonaSchema.parse({ name: "tiny", model }), hazel],
    // The serve verb's code path: plain personas on the engine, plugin backends via the registry.
    backend: (p) => p.backend ? hub.personaBackend(p) : counted,
  });
  const server = startServer({
    port: 0,
    resolve: (n) => resolver.resolve(n),
    listModels: () => resolver.models(),
  });
  try {
    const common = {
      model: `${server.url}/v1#tiny`,
      cache: join(dir, "calls.sqlite"),
      "max-tokens": 12,
      "agent-max-tokens": 8,
      seed: 1,
    };
    const pipeline = async () => {
      const memory = await runJson(command("build-memory"), {
        ...common,
        out: memoryDir,
        paragraphs: 4,
      });
      const questionnaire = await runJson(command("questionnaire"), {
        ...common,
        memory: memoryDir,
        methods: "none,prompt,rag,macm",
        "items-per-type": 1,
        embed: model,
      });
      const bandwagon = await runJson(command("bandwagon"), { ...common, method: "none" });
      return { memory, questionnaire, bandwagon };
    };

    const first = await pipeline();
    const callsAfterFirst = counted.calls;
    assert.equal(first.memory.memories, 2);
    const index = JSON.parse(await Deno.readTextFile(join(memoryDir, "index.json")));
    const long = JSON.parse(await Deno.readTextFile(join(memoryDir, "long_memory.json")));
    assert.deepEqual(Object.keys(index), ["001", "002"]);
    assert.deepEqual(Object.keys(long["001"].Memory).sort(), [
      "Emotion",
      "Memory Content",
      "Thinking",
    ]);

    const scores = first.questionnaire.scores as Record<string, Record<string, number>>;
    assert.deepEqual(Object.keys(scores), ["none", "prompt", "rag", "macm"]);
    for (const [method, s] of Object.entries(scores)) {
      assert.equal(s.max, 10, method); // one cloze (2) + one single (2) + one multiple (6)
      assert.ok(Number.isInteger(s.total) && s.total >= 0 && s.total <= s.max, method);
      assert.equal(s.total, s.Cloze + s.Single_choice + s.Multiple_choices, method);
      assert.ok(s.parse_failures >= 0 && s.parse_failures <= 2, method);
    }
    console.log("questionnaire scores (tiny-llama, 1 item per type):", JSON.stringify(scores));

    const bw = first.bandwagon as Record<string, unknown> & {
      runs: Record<string, { trials: unknown[]; unanswered: number; condition: string }>;
    };
    assert.equal(bw.runs.group_pressure.trials.length, 18);
    assert.equal(bw.runs.control.trials.length, 18);
    for (const k of ["conformity_rate", "control_error_rate", "control_same_line_rate"]) {
      const v = bw[k] as number;
      assert.ok(v >= 0 && v <= 1, k);
    }
    console.log(
      "bandwagon:",
      JSON.stringify({
        conformity_rate: bw.conformity_rate,
        control_error_rate: bw.control_error_rate,
        effect: bw.effect,
        unanswered: [bw.runs.group_pressure.unanswered, bw.runs.control.unanswered],
      }),
    );
    // Every cache miss of the commands is one request to the engine, and no more than the
    // protocol asks for: 8 memory calls; questionnaire 3 + 3 + 3 + 3·5; bandwagon 2·19 (a
    // request repeated word for word is a cache hit even in the first run).
    const misses = [first.memory, first.questionnaire, first.bandwagon]
      .reduce((n, r) => n + (r.calls as number), 0);
    assert.equal(callsAfterFirst, misses);
    assert.equal(first.memory.calls, 8);
    assert.ok(callsAfterFirst > 50 && callsAfterFirst <= 8 + 24 + 38);

    // The rerun is served by the cache: no request reaches the engine and the results repeat.
    const second = await pipeline();
    assert.equal(counted.calls, callsAfterFirst);
    assert.equal(second.memory.calls, 0);
    assert.equal(second.questionnaire.calls, 0);
    assert.equal(second.bandwagon.calls, 0);
    assert.deepEqual(second.questionnaire.scores, first.questionnaire.scores);
    assert.deepEqual(second.bandwagon.runs, first.bandwagon.runs);

    // The official client chats with the MACM persona through the endpoint.
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "none", maxRetries: 0 });
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.deepEqual(ids, ["hazel", "tiny"]);
    const reply = await client.chat.completions.create({
      model: "hazel",
      messages: [
        { role: "user", content: "Hi, is this seat free?" },
        { role: "assistant", content: "Sure, sit down." },
        { role: "user", content: "What do you do for a living?" },
      ],
      max_tokens: 12,
      seed: 3,
    });
    assert.equal(reply.model, "hazel");
    assert.equal(typeof reply.choices[0].message.content, "string");
    const trace = (reply as unknown as { metadata: { macm: Record<string, unknown> } }).metadata
      .macm;
    assert.equal(trace.method, "macm");
    assert.equal(trace.character, "Hazel Okafor");
    assert.equal(trace.answer, reply.choices[0].message.content);
    // rebuilt per turn: character prompt, coffee shop + record, query, [memory], cognition
    const roles = trace.final_messages_roles as string[];
    assert.deepEqual(roles.slice(0, 3), ["system", "system", "user"]);
    assert.equal(roles.at(-1), "system");
    assert.ok(reply.usage!.prompt_tokens > 0);
    let streamed = "";
    const stream = await client.chat.completions.create({
      model: "hazel",
      messages: [{ role: "user", content: "What do you do for a living?" }],
      max_tokens: 12,
      seed: 3,
      stream: true,
    });
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? "";
    assert.equal(typeof streamed, "string");
  } finally {
    await server.shutdown();
    await engine.close();
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});
