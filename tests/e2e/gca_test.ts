// End to end: the gca plugin on tiny-llama through this project's own OpenAI-compatible server.
// Actors, environment, next-speaker and critic are OpenAIChatModels pointed at the server, each
// behind the SQLite response cache; a rerun must be answered by the cache alone. The tiny model's
// words are noise, which is the point: the counters (NSP fallbacks, null verdicts, skipped
// chunks, failed enhancements) must show how malformed output was handled.

import assert from "node:assert/strict";
import { join } from "node:path";
import { LocalChatModel } from "../../core/chat/local_chat_model.ts";
import type {
  ChatChunk,
  ChatModel,
  ChatRequest,
  ChatResponse,
} from "../../core/contracts/chat_model.ts";
import { loadExperimentFile } from "../../core/experiment/load_experiment.ts";
import { prepareExperiment } from "../../core/experiment/prepare_experiment.ts";
import { startServer } from "../../core/host/server/serve.ts";
import { Engine } from "../../core/model/engine.ts";
import { createTinyModel } from "../../core/model/tiny.ts";
import { PluginRegistry } from "../../core/plugin/registry.ts";
import { constructBook } from "../../plugins/gca/construction/pipeline.ts";
import { createGcaJudge } from "../../plugins/gca/judge.ts";
import { judgeSimulations } from "../../plugins/gca/judge_simulations.ts";
import { ModelHub } from "../../core/services/model_hub.ts";
import { ModelResolver } from "../../core/services/model_resolver.ts";
import { gca } from "../../plugins/gca/plugin.ts";
import { parseBook, parseTestRecord } from "../../plugins/gca/schemas.ts";
import { simulateRecords } from "../../plugins/gca/simulate_records.ts";
import { createGcaSimulator } from "../../plugins/gca/simulator.ts";
import { transformBook } from "../../plugins/gca/transform_book.ts";

const records = JSON.parse(
  await Deno.readTextFile(new URL("../../plugins/gca/data/test_records.json", import.meta.url)),
) as unknown[];
const story = await Deno.readTextFile(
  new URL("../../plugins/gca/data/story.txt", import.meta.url),
);

/** Counts the calls that reach the engine (behind the server). */
class CountingModel implements ChatModel {
  readonly id: string;
  calls = 0;
  constructor(readonly inner: ChatModel) {
    this.id = inner.id;
  }
  chat(request: ChatRequest): Promise<ChatResponse> {
    this.calls++;
    return this.inner.chat(request);
  }
  stream(request: ChatRequest): AsyncIterable<ChatChunk> {
    this.calls++;
    return this.inner.stream(request);
  }
}

interface Served {
  url: string;
  counter: CountingModel;
  constrained: boolean;
  close(): Promise<void>;
}

async function serveTiny(dir: string): Promise<Served> {
  await createTinyModel(join(dir, "tiny"), { preset: "tiny-llama", seed: 7 });
  const engine = await Engine.load(join(dir, "tiny"), { cacheDir: join(dir, "graphs") });
  // LocalChatModel compiles response_format JSON schemas into token masks by default.
  const counter = new CountingModel(new LocalChatModel(engine, { id: "tiny" }));
  const server = startServer({
    port: 0,
    resolve: () => counter,
    listModels: () => [{ id: "tiny" }],
  });
  return {
    url: `${server.url}/v1#tiny`,
    counter,
    constrained: true,
    async close() {
      await server.shutdown();
      await engine.close();
    },
  };
}

// Small limits keep the run short: 4 utterances per scene (the spec's maxRounds, overridable for
// tests), 12 tokens per simulated turn, short critic replies.
const SIM_OPTIONS = { maxRounds: 4, maxTokens: 12, maxRetries: 1 };

async function simulateAndJudge(served: Served, cachePath: string) {
  const resolver = new ModelResolver({ hub: new ModelHub(), cachePath });
  try {
    const model = await resolver.get(served.url);
    const file = await simulateRecords(records, {
      simulator: createGcaSimulator(),
      models: { actor: model, environment: model, nsp: model },
      options: SIM_OPTIONS,
      seed: 42,
    });
    const evaluation = await judgeSimulations(file.simulations, {
      judge: createGcaJudge({
        maxRetries: 1,
        maxTokens: served.constrained ? 48 : 16,
        jsonSchema: served.constrained,
      }),
      model,
    });
    return { file, evaluation, cache: resolver.stats() };
  } finally {
    resolver.close();
  }
}

Deno.test("gca simulates, judges and scores both shipped records on tiny-llama; a rerun is cached", async () => {
  const dir = await Deno.makeTempDir();
  const served = await serveTiny(dir);
  try {
    const cachePath = join(dir, "gca.sqlite");
    const first = await simulateAndJudge(served, cachePath);
    const { file, evaluation } = first;
    assert.equal(file.simulations.length, 2);
    for (const [i, s] of file.simulations.entries()) {
      const record = parseTestRecord(records[i]);
      const spoken = s.simulation.filter((e) => e.role !== "NSP");
      assert.equal(spoken.length, SIM_OPTIONS.maxRounds);
      // every speaker is a character of the record or Environment; the first is the top speaker
      assert.equal(spoken[0].role, record.speaking_characters_w_env[0]);
      for (const e of spoken) {
        assert.ok([...record.speaking_characters_w_env, "Environment"].includes(e.role), e.role);
      }
      // the tiny model cannot name a speaker: the seeded fallback chose, and it was counted
      assert.ok(Number(s.fallbacks) >= 1);
    }
    const m = evaluation.metadata;
    assert.equal(m.cases, 2);
    assert.match(m.judge_model, /^openai:tiny@http:\/\/127\.0\.0\.1:\d+\/v1/);
    assert.equal(m.comparable, false);
    // verdicts are either scored or counted nulls, never a crash or a silent zero
    const scored = Object.values(evaluation.cases).filter((c) => c.score !== null).length;
    assert.equal(scored + m.null_verdicts, 2);
    assert.equal(m.failures.length, m.null_verdicts);
    if (!served.constrained) assert.equal(m.null_verdicts, 2);
    for (const c of Object.values(evaluation.cases)) {
      assert.ok(Number(c.bleu) >= 0 && Number(c.bleu) <= 1);
      assert.ok(Number(c.rouge_l) >= 0 && Number(c.rouge_l) <= 1);
    }
    assert.ok(evaluation.metrics.bleu !== null && evaluation.metrics.rouge_l !== null);
    console.error(
      `gca e2e: constrained judge ${served.constrained}; ${m.null_verdicts}/2 null verdicts; ` +
        `fallbacks ${
          file.simulations.map((s) => s.fallbacks).join(",")
        }; BLEU ${evaluation.metrics.bleu} ROUGE-L ${evaluation.metrics.rouge_l}; ${served.counter.calls} backend calls`,
    );

    const before = served.counter.calls;
    assert.ok(before > 0);
    const second = await simulateAndJudge(served, cachePath);
    assert.equal(served.counter.calls, before, "the rerun reached the model");
    assert.equal(second.cache.misses, 0);
    assert.deepEqual(
      second.file.simulations.map((s) => s.simulation),
      file.simulations.map((s) => s.simulation),
    );
    assert.deepEqual(second.evaluation.scores, evaluation.scores);
    assert.deepEqual(second.evaluation.metrics, evaluation.metrics);
  } finally {
    await served.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * A hand-written extraction of the story's first chunk (chapters 1–2), sent the way real models
 * often answer: prose around a fenced block, cut off in the middle of the second plot's dialogue.
 */
function noisyFirstChunkReply(): string {
  const json = JSON.stringify(
    {
      plots: [{
        first_sentence:
          "The ferry at Hollin Reach crossed the estuary eleven times a day when the weather allowed it",
        last_sentence: "Behind her she heard Oskar begin to whistle, very softly, and then stop.",
        chapter: "Chapter 1: The Toll Box",
        state: "finished",
        summary:
          "Mira Holt finds the crossing's toll box stolen and questions the ferryman Oskar Brenn.",
        prominence: 85,
        key_characters: [
          {
            name: "Mira Holt",
            description: "The ferry keeper's daughter, practical and proud.",
            experience: "She discovers the theft and decides to investigate alone.",
          },
          {
            name: "Oskar Brenn",
            description: "The quiet ferryman who whistles when nervous.",
            experience: "He is questioned and gives careful answers.",
          },
        ],
        conversation: [{
          scenario:
            "A wet October evening in the boathouse at Hollin Reach; Mira has just found the toll box gone.",
          topic: "Who took the toll box",
          key_characters: [
            { name: "Mira Holt", motivation: "Find out what Oskar knows before the clerk comes." },
            { name: "Oskar Brenn", motivation: "Give nothing away." },
          ],
          dialogues: [
            {
              character: "Mira Holt",
              message: "[He will tell me if I ask plainly.] The box is gone.",
            },
            { character: "Oskar Brenn", message: "[Careful.] (looks up slowly) Gone where?" },
            {
              character: "Mira Holt",
              message: "If I knew that I would not be asking you. The bolts are cut.",
            },
            {
              character: "Oskar Brenn",
              message: "(sets the net down) I locked the shed at six. Same as always.",
            },
            {
              character: "Environment",
              message: "Rain drums on the boathouse roof; the candle gutters.",
            },
            { character: "Mira Holt", message: "Did you see anyone on the landing after that?" },
            {
              character: "Oskar Brenn",
              message: "[The boy will do.] Only the tinker's boy, looking for his dog.",
            },
          ],
        }],
      }, {
        first_sentence:
          "Anselm Holt's ledger lived on a shelf above the kitchen table, wrapped in oilcloth.",
        last_sentence: '"Three days," she said. "And then I go myself."',
        chapter: "Chapter 2: The Ledger",
        state: "finished",
        summary: "Mira and her aunt Tamsin find that fewer crossings were written than were made.",
        prominence: 80,
        key_characters: [
          {
            name: "Mira Holt",
            description: "The ferry keeper's daughter.",
            experience: "She compares the books and asks for three days.",
          },
          {
            name: "Tamsin Holt",
            description: "Mira's aunt, a widow who runs the chandlery.",
            experience: "She reads the books and threatens the magistrate.",
          },
        ],
        conversation: [{
          scenario:
            "The kitchen of the crossing house in the morning, the ledger and Oskar's notebook open.",
          topic: "The missing crossings",
          key_characters: [
            { name: "Tamsin Holt", motivation: "Get to the truth and protect her brother." },
            { name: "Mira Holt", motivation: "Keep the magistrate out of it for now." },
          ],
          dialogues: [
            {
              character: "Tamsin Holt",
              message:
                "(taps the darker totals) Somebody has been writing fewer crossings than were made.",
            },
            { character: "Mira Holt", message: "[Not Father.] Father would never do that." },
            {
              character: "Tamsin Holt",
              message: "No. But who has been writing in this book, Mira?",
            },
            { character: "Mira Holt", message: "[Oskar, at this table.] Give me three days." },
            {
              character: "Tamsin Holt",
              message: "(studies her niece) Three days. And then I go myself.",
            },
          ],
        }],
      }],
      next_chunk_start: null,
    },
    null,
    1,
  );
  const cut = json.indexOf("Three days. And then");
  return "Here is the structured data you asked for:\n```json\n" + json.slice(0, cut + 10);
}

/**
 * Answers the first chunk's extraction with the noisy reply; everything else goes to tiny, with
 * `max_tokens` capped (the pipeline sets none, and tiny's garbage needs no more to be garbage).
 */
class FirstChunkScript implements ChatModel {
  readonly id: string;
  scripted = 0;
  constructor(readonly inner: ChatModel) {
    this.id = inner.id;
  }
  chat(request: ChatRequest): Promise<ChatResponse> {
    const sys = request.messages[0]?.content ?? "";
    const user = request.messages[1]?.content ?? "";
    if (sys.startsWith("You turn passages") && user.includes("Chapter 1: The Toll Box")) {
      this.scripted++;
      const content = noisyFirstChunkReply();
      return Promise.resolve({
        id: "scripted",
        model: "scripted",
        created: 0,
        choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "length" }],
        usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      });
    }
    return this.inner.chat({ ...request, max_tokens: Math.min(request.max_tokens ?? 24, 24) });
  }
  stream(request: ChatRequest): AsyncIterable<ChatChunk> {
    return this.inner.stream(request);
  }
}

Deno.test("gca builds a book from the shipped story with a local model, repairing and skipping garbage", async () => {
  const dir = await Deno.makeTempDir();
  const served = await serveTiny(dir);
  try {
    const resolver = new ModelResolver({
      hub: new ModelHub(),
      cachePath: join(dir, "build.sqlite"),
    });
    const tiny = await resolver.get(served.url);
    const model = new FirstChunkScript(tiny);
    const logs: string[] = [];
    const { book, stats, title } = await constructBook(
      model,
      { title: "The Salt Road", content: story },
      { chunkSize: 2048, maxRetries: 0, log: (l) => logs.push(l) },
    );
    resolver.close();
    assert.equal(title, "The Salt Road");
    assert.equal(stats.chunks, 4);
    assert.equal(model.scripted, 1);
    // chunk 0's truncated, fenced reply was repaired; the tiny model's chunks were skipped and
    // logged (a garbage reply that happens to hold an empty list `[]` is a valid empty extraction)
    assert.ok(!stats.failedChunks.includes(0));
    assert.ok(stats.failedChunks.length >= 1);
    assert.equal(
      logs.filter((l) => /^chunk \d: skipped/.test(l)).length,
      stats.failedChunks.length,
    );
    assert.equal(stats.plots, 2);
    assert.equal(stats.conversations, 2);
    // the tiny model cannot enhance scenes or normalise names: counted, originals kept
    assert.equal(stats.failedEnhancements, 2);
    assert.equal(stats.namesNormalised, false);
    const parsed = parseBook(book);
    assert.ok(parsed.plots[0].text.startsWith("The ferry at Hollin Reach"));
    assert.equal(parsed.plots[1].conversation[0].dialogues.at(-1)!.character, "Tamsin Holt");
    assert.equal(parsed.split_plot_index, 1);

    const { samples, testRecords, stats: t } = transformBook(parsed, title, { seed: 42 });
    // plot 0 trains: 3 speakers (Mira, Oskar, Environment) × 4 variants, plus NSP at 10%
    assert.equal(t.characterSamples + t.environmentSamples, 12);
    assert.equal(t.environmentSamples, 4);
    assert.ok(samples.every((s) => s.conversations[0].from === "system"));
    assert.equal(testRecords.length, 1);
    const record = parseTestRecord(testRecords[0]);
    assert.equal(record.i_p, 1);
    assert.deepEqual(record.speaking_characters_w_env, ["Tamsin Holt", "Mira Holt"]);
    console.error(
      `gca build e2e: ${stats.chunks} chunks, skipped ${stats.failedChunks}, ${stats.plots} plots, ` +
        `${stats.failedEnhancements} failed enhancements, ${samples.length} ShareGPT samples, ` +
        `${testRecords.length} test record(s)`,
    );
  } finally {
    await served.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("examples/gca.json validates with the experiment loader and the gca plugin", async () => {
  const registry = new PluginRegistry();
  registry.register(gca(), "built-in");
  const loaded = await loadExperimentFile(
    new URL("../../examples/gca.json", import.meta.url).pathname,
  );
  const prepared = await prepareExperiment(loaded, registry, { checkModelPaths: false });
  assert.deepEqual(prepared.steps.map((s) => s.spec.kind), ["simulate", "judge"]);
});
