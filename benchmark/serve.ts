/**
 * Serving benchmark: requests/s and p50/p95 latency of the OpenAI-compatible server under
 * concurrent load, against direct in-process calls to the same engine, measured in one run.
 *
 * One tiny-but-not-trivial local model (tiny-llama layout, hidden 256, 4 layers, vocab 4096,
 * seeded random weights from `createTinyModel`, built once into `.cache/bench/serve-model/`) is
 * loaded into one {@link Engine}. The same fixed list of requests (distinct prompts, fixed
 * seeds, the same `max_tokens`) is then issued two ways at each concurrency level (default 1, 4
 * and 16):
 *
 * - **direct**: `LocalChatModel.chat` in-process, with the persona's messages applied as the server
 *   would (`personaRequest`), so both paths hand the engine identical requests;
 * - **server**: the official `openai` npm client against `startServer` on 127.0.0.1 (an ephemeral
 *   port), persona resolved by `PersonaResolver`, default server limits unless overridden.
 *
 * The engine runs its session in a worker and interleaves concurrent generations step by step, so
 * higher concurrency mostly raises latency; what is measured is what a caller sees. The load is a
 * closed loop: `concurrency` callers each take the next request as soon as their last one returned.
 * requests/s = completed requests / wall time of the phase; latencies are per request, issue to
 * full response. Each level runs `rounds` times; which path goes first alternates between rounds
 * and between levels, so that load from other processes falls on both alike; the figures pool
 * the rounds. Every server answer is compared with the direct answer to the same request (same
 * seed ⇒ same text).
 *
 * Generation dominates a request's time, so on a busy machine the server/direct ratios carry the
 * noise of the engine's timings. A second probe isolates the HTTP path: the same client and
 * server in front of a model that answers at once, whose latencies are the per-request overhead
 * itself (`httpOverhead`). Note that the server runs at most `maxConcurrent` generations at once
 * (default 4) and queues the rest in FIFO order, while direct callers all interleave in the
 * engine; at concurrency 16 that changes the latency distribution, not the work.
 *
 * ```
 * deno task bench serve [--json]   (flags: deno task bench --help)
 * ```
 *
 * @module
 */

import { join } from "node:path";
import OpenAI from "openai";
import type { ChatModel, ChatRequest, ChatResponse } from "../core/contracts/chat_model.ts";
import { type Persona, PersonaSchema } from "../core/contracts/persona.ts";
import { PersonaResolver } from "../core/host/server/persona_resolver.ts";
import { startServer } from "../core/host/server/serve.ts";
import { DEFAULT_LIMITS } from "../core/host/server/completions.ts";
import { ModelHub } from "../core/services/model_hub.ts";
import { createTinyModel, type TinyModelOptions } from "../core/model/tiny.ts";
import { removeDerived } from "./bench_cache.ts";
import { personaRequest } from "../core/persona/persona_chat_model.ts";

/** The model the benchmark serves: tiny-llama layout, 4 layers of width 256. */
export const SERVE_MODEL: TinyModelOptions = {
  preset: "tiny-llama",
  seed: 0,
  hiddenSize: 256,
  intermediateSize: 768,
  numLayers: 4,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 64,
  vocabSize: 4096,
  maxPositionEmbeddings: 1024,
};

/** Options of {@link benchServe}. */
export interface ServeBenchOptions {
  /**
   * Requests per concurrency level, per path, per round (default 24: more than the highest
   * default level, so the 16-caller phase is not a single burst).
   */
  requests?: number;
  /** `max_tokens` of every request (default 24). */
  maxTokens?: number;
  /** Concurrency levels (default [1, 4, 16]). */
  concurrency?: number[];
  /**
   * Repeats of each level (default 2). Which path goes first alternates from round to round and
   * from level to level, so load that drifts over time falls on both paths alike.
   */
  rounds?: number;
  /** Requests per path before measuring, to warm the engine, server and connections (default 2). */
  warmup?: number;
  /**
   * Requests per concurrency level for the HTTP-path probe against a model that answers at once
   * (default 200; 0 skips it).
   */
  overheadRequests?: number;
  /** onnxruntime intra-op threads (default: one per core). */
  threads?: number;
  /** The server's `maxConcurrent` (generations running at once; default the server's, 4). */
  serverConcurrency?: number;
  /** A phase stops issuing new requests after this many seconds (default 120). */
  phaseTimeoutSeconds?: number;
  /** Where the model and its exported graph are cached; default `.cache/bench/serve-model`. */
  workDir?: string;
  /** Keep the exported graph after the run (default false: rebuilt by the next run). */
  keepCache?: boolean;
  /** Progress lines (stderr by default). */
  log?: (line: string) => void;
}

/** Timings of one path at one concurrency level (all rounds pooled). */
export interface ServePathStats {
  /** Requests that completed (successfully or not). */
  requests: number;
  /** Requests that threw or came back with no choice. */
  failures: number;
  /** Wall time of the phases, summed over rounds. */
  seconds: number;
  requestsPerSecond: number;
  /** Latency percentiles (nearest rank) and mean, milliseconds. */
  p50Ms: number;
  p95Ms: number;
  meanMs: number;
  maxMs: number;
  /** Completion tokens of the successful requests, and per second of wall time. */
  completionTokens: number;
  tokensPerSecond: number;
}

/** One concurrency level: both paths and the server / direct ratios. */
export interface ServeLevel {
  concurrency: number;
  direct: ServePathStats;
  server: ServePathStats;
  ratios: {
    /** Server requests/s over direct requests/s (below 1: the server costs throughput). */
    throughput: number;
    /** Server latency over direct latency (above 1: the server adds latency). */
    p50: number;
    p95: number;
  };
  /** Server p50 minus direct p50, milliseconds. */
  addedP50Ms: number;
  /** The same ratios per round (their spread shows how much other load moved the figures). */
  roundRatios: { throughput: number; p50: number; p95: number }[];
}

/** The HTTP path alone at one concurrency level: the server in front of an instant model. */
export interface HttpOverheadLevel {
  concurrency: number;
  requests: number;
  failures: number;
  requestsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
}

/** Result of {@link benchServe}. */
export interface ServeBenchResult {
  model: {
    preset: string;
    hiddenSize: number;
    numLayers: number;
    vocabSize: number;
    params: number;
  };
  requests: number;
  maxTokens: number;
  rounds: number;
  warmup: number;
  threads: number | null;
  server: { maxConcurrent: number; maxQueue: number; client: string };
  /** 1-minute load average at start and end (other processes skew timings), and the core count. */
  loadAverage: number;
  loadAverageEnd: number;
  cpus: number;
  levels: ServeLevel[];
  /**
   * The fixed cost of a request through client, loopback and server: the same server and client
   * against a ChatModel that answers at once (direct calls to it take microseconds, so these
   * latencies are the overhead itself). Empty when skipped.
   */
  httpOverhead: HttpOverheadLevel[];
  /** Every server answer against the direct answer to the same request. */
  correctness: {
    compared: number;
    failures: number;
    mismatches: number;
    /** True when nothing failed and every text matched. */
    ok: boolean;
    /** Up to 3 mismatches or failures, for diagnosis. */
    examples: string[];
  };
  totalSeconds: number;
}

/** A ChatModel that answers every request at once with a fixed text (for the HTTP-path probe). */
const instantModel: ChatModel = {
  id: "instant",
  chat(request) {
    return Promise.resolve({
      id: "chatcmpl-instant",
      model: "instant",
      created: Math.floor(Date.now() / 1000),
      choices: [{
        index: 0,
        message: { role: "assistant", content: "Hello there, how can I help you today?" },
        finish_reason: "stop",
        logprobs: null,
      }],
      usage: { prompt_tokens: request.messages.length, completion_tokens: 9, total_tokens: 9 },
    });
  },
  stream() {
    throw new Error("the instant model does not stream");
  },
};

const PROMPTS = [
  "Hello! Who are you?",
  "Tell me a short story about a lighthouse.",
  "What is your favourite season, and why?",
  "Describe the sea in three sentences.",
  "Can you recommend a book for a rainy afternoon?",
  "How do you make a good cup of tea?",
  "What would you do with a free day in a new city?",
  "Explain why the sky is blue to a child.",
];

/** The i-th benchmark request (the same through both paths). */
export function benchRequest(i: number, maxTokens: number): ChatRequest {
  return {
    messages: [{ role: "user", content: PROMPTS[i % PROMPTS.length] }],
    max_tokens: maxTokens,
    temperature: 1,
    seed: 1000 + i,
  };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

interface Outcome {
  index: number;
  ms: number;
  text?: string;
  tokens: number;
  error?: string;
}

/**
 * Closed-loop load: `concurrency` callers take request indices 0..n-1 in order until all are done
 * or the deadline passes. Returns each outcome and the phase's wall time in seconds.
 */
async function drive(
  n: number,
  concurrency: number,
  timeoutSeconds: number,
  call: (i: number) => Promise<{ text: string | undefined; tokens: number }>,
): Promise<{ outcomes: Outcome[]; seconds: number }> {
  const outcomes: Outcome[] = [];
  let next = 0;
  const t0 = performance.now();
  const deadline = t0 + timeoutSeconds * 1000;
  const worker = async () => {
    while (next < n && performance.now() < deadline) {
      const index = next++;
      const s = performance.now();
      try {
        const { text, tokens } = await call(index);
        const ms = performance.now() - s;
        outcomes.push(
          text === undefined
            ? { index, ms, tokens, error: "no choice in the response" }
            : { index, ms, text, tokens },
        );
      } catch (error) {
        outcomes.push({
          index,
          ms: performance.now() - s,
          tokens: 0,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return { outcomes, seconds: (performance.now() - t0) / 1000 };
}

function stats(outcomes: Outcome[], seconds: number): ServePathStats {
  const ms = outcomes.map((o) => o.ms).sort((a, b) => a - b);
  const ok = outcomes.filter((o) => !o.error);
  const tokens = ok.reduce((s, o) => s + o.tokens, 0);
  return {
    requests: outcomes.length,
    failures: outcomes.length - ok.length,
    seconds,
    requestsPerSecond: outcomes.length / seconds,
    p50Ms: percentile(ms, 50),
    p95Ms: percentile(ms, 95),
    meanMs: ms.reduce((s, x) => s + x, 0) / Math.max(1, ms.length),
    maxMs: ms.length ? ms[ms.length - 1] : NaN,
    completionTokens: tokens,
    tokensPerSecond: tokens / seconds,
  };
}

function ratiosOf(d: ServePathStats, s: ServePathStats): ServeLevel["ratios"] {
  return {
    throughput: s.requestsPerSecond / d.requestsPerSecond,
    p50: s.p50Ms / d.p50Ms,
    p95: s.p95Ms / d.p95Ms,
  };
}

async function exists(p: string): Promise<boolean> {
  return await Deno.stat(p).then(() => true, () => false);
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) {
    throw new RangeError(`${name} is ${v}; pass a whole number >= ${min}`);
  }
}

/**
 * Runs the serving benchmark and returns its measurements.
 *
 * @example
 * ```ts ignore
 * import { benchServe, formatServeBench } from "./serve.ts";
 * const r = await benchServe({ requests: 8, concurrency: [1, 4] });
 * console.log(formatServeBench(r));
 * ```
 */
export async function benchServe(options: ServeBenchOptions = {}): Promise<ServeBenchResult> {
  const started = performance.now();
  const requests = options.requests ?? 24;
  const maxTokens = options.maxTokens ?? 24;
  const levels = options.concurrency ?? [1, 4, 16];
  const rounds = options.rounds ?? 2;
  const warmup = options.warmup ?? 2;
  const overheadRequests = options.overheadRequests ?? 200;
  const timeout = options.phaseTimeoutSeconds ?? 120;
  checkInt("requests", requests, 1);
  checkInt("maxTokens", maxTokens, 1);
  checkInt("rounds", rounds, 1);
  checkInt("warmup", warmup, 0);
  checkInt("overheadRequests", overheadRequests, 0);
  if (!levels.length) throw new RangeError("concurrency is empty; pass levels such as 1,4,16");
  for (const c of levels) checkInt("concurrency level", c, 1);
  if (!(timeout > 0)) throw new RangeError(`phaseTimeoutSeconds is ${timeout}; pass seconds > 0`);
  if (options.serverConcurrency !== undefined) {
    checkInt("serverConcurrency", options.serverConcurrency, 1);
  }
  const log = options.log ?? ((l: string) => console.error(l));

  const dir = options.workDir ?? join(".cache", "bench", "serve-model");
  const modelDir = join(dir, "model");
  if (!(await exists(join(dir, "done")))) {
    log(`building the benchmark model in ${modelDir} (once)`);
    await Deno.remove(modelDir, { recursive: true }).catch(() => {});
    await createTinyModel(modelDir, SERVE_MODEL);
    await Deno.writeTextFile(join(dir, "done"), "ok\n");
  }
  log("loading the engine");
  const hub = new ModelHub({ threads: options.threads, cacheDir: join(dir, "graphs") });
  const engine = await hub.openEngine(modelDir);
  const loadAverage = Deno.loadavg()[0];
  const local = await hub.localChatModel(engine, "bench");
  const persona: Persona = PersonaSchema.parse({
    name: "bench",
    model: modelDir,
    system_prompt: "You are {{char}}, a friendly and concise assistant.",
  });
  const resolver = new PersonaResolver({
    fixed: [persona, PersonaSchema.parse({ name: "instant", model: "instant" })],
    backend: (p) => (p.name === "instant" ? instantModel : local),
  });
  const limits = {
    ...DEFAULT_LIMITS,
    ...(options.serverConcurrency ? { maxConcurrent: options.serverConcurrency } : {}),
    // Room for the whole highest level in the queue, so the benchmark never sees a 429.
    maxQueue: Math.max(DEFAULT_LIMITS.maxQueue, ...levels),
  };
  const server = startServer({
    port: 0,
    resolve: (n) => resolver.resolve(n),
    listModels: () => resolver.models(),
    limits,
  });
  const client = new OpenAI({
    baseURL: `${server.url}/v1`,
    apiKey: "none",
    maxRetries: 0,
    timeout: timeout * 1000,
  });

  const direct = async (i: number) => {
    const r: ChatResponse = await local.chat(personaRequest(persona, benchRequest(i, maxTokens)));
    return { text: r.choices[0]?.message.content ?? undefined, tokens: r.usage.completion_tokens };
  };
  const viaServer = async (i: number, model = "bench") => {
    const req = benchRequest(i, maxTokens);
    const r = await client.chat.completions.create({
      model,
      messages: req.messages as OpenAI.ChatCompletionMessageParam[],
      max_tokens: req.max_tokens,
      temperature: req.temperature,
      seed: req.seed,
    });
    return {
      text: r.choices[0]?.message.content ?? undefined,
      tokens: r.usage?.completion_tokens ?? 0,
    };
  };

  const results: ServeLevel[] = [];
  const httpOverhead: HttpOverheadLevel[] = [];
  const examples: string[] = [];
  let compared = 0, failures = 0, mismatches = 0;
  const expected = new Map<number, string>();
  try {
    if (warmup > 0) {
      log(`warm-up: ${warmup} request(s) per path`);
      // Indices past the measured ones, so warm-up answers do not stand in for measured ones.
      await drive(warmup, 1, timeout, (i) => direct(requests + i));
      await drive(warmup, 1, timeout, (i) => viaServer(requests + i));
    }
    if (overheadRequests > 0) {
      log(`HTTP-path probe: ${overheadRequests} requests per level to an instant model`);
      await drive(Math.min(20, overheadRequests), 1, timeout, (i) => viaServer(i, "instant"));
      for (const concurrency of levels) {
        const phase = await drive(
          overheadRequests,
          concurrency,
          timeout,
          (i) => viaServer(i, "instant"),
        );
        const st = stats(phase.outcomes, phase.seconds);
        httpOverhead.push({
          concurrency,
          requests: st.requests,
          failures: st.failures,
          requestsPerSecond: st.requestsPerSecond,
          p50Ms: st.p50Ms,
          p95Ms: st.p95Ms,
        });
      }
    }
    for (const [level, concurrency] of levels.entries()) {
      const pooled = {
        direct: { outcomes: [] as Outcome[], seconds: 0 },
        server: { outcomes: [] as Outcome[], seconds: 0 },
      };
      const roundRatios: ServeLevel["roundRatios"] = [];
      for (let round = 0; round < rounds; round++) {
        const order = (level + round) % 2 === 0
          ? ["direct", "server"] as const
          : ["server", "direct"] as const;
        const byPath: { direct?: ServePathStats; server?: ServePathStats } = {};
        for (const path of order) {
          log(`concurrency ${concurrency}, round ${round + 1}/${rounds}: ${path}`);
          const phase = await drive(
            requests,
            concurrency,
            timeout,
            path === "direct" ? direct : viaServer,
          );
          pooled[path].outcomes.push(...phase.outcomes);
          pooled[path].seconds += phase.seconds;
          byPath[path] = stats(phase.outcomes, phase.seconds);
        }
        roundRatios.push(ratiosOf(byPath.direct!, byPath.server!));
      }
      // Correctness: direct answers define each request's text (seeded, so every round agrees).
      for (const o of pooled.direct.outcomes) {
        if (o.error) {
          failures++;
          if (examples.length < 3) examples.push(`direct #${o.index}: ${o.error}`);
        } else if (!expected.has(o.index)) expected.set(o.index, o.text!);
        else if (expected.get(o.index) !== o.text) {
          mismatches++;
          if (examples.length < 3) examples.push(`direct #${o.index} differs between runs`);
        }
      }
      for (const o of pooled.server.outcomes) {
        compared++;
        if (o.error) {
          failures++;
          if (examples.length < 3) examples.push(`server #${o.index}: ${o.error}`);
        } else if (expected.has(o.index) && expected.get(o.index) !== o.text) {
          mismatches++;
          if (examples.length < 3) {
            examples.push(
              `#${o.index}: server ${JSON.stringify(o.text)} vs direct ${
                JSON.stringify(expected.get(o.index))
              }`,
            );
          }
        } else if (!expected.has(o.index)) {
          mismatches++;
          if (examples.length < 3) examples.push(`#${o.index}: no direct answer to compare`);
        }
      }
      const d = stats(pooled.direct.outcomes, pooled.direct.seconds);
      const s = stats(pooled.server.outcomes, pooled.server.seconds);
      results.push({
        concurrency,
        direct: d,
        server: s,
        ratios: ratiosOf(d, s),
        addedP50Ms: s.p50Ms - d.p50Ms,
        roundRatios,
      });
    }
  } finally {
    await server.shutdown();
    await engine.close();
    await removeDerived([join(dir, "graphs")], options.keepCache, log);
  }

  const c = engine.config;
  const perLayer = c.hiddenSize * c.numHeads * c.headDim * 2 +
    2 * c.hiddenSize * c.numKvHeads * c.headDim + 3 * c.hiddenSize * c.intermediateSize +
    2 * c.hiddenSize;
  const params = c.numLayers * perLayer + c.hiddenSize +
    c.vocabSize * c.hiddenSize * (c.tieWordEmbeddings ? 1 : 2);
  return {
    model: {
      preset: SERVE_MODEL.preset,
      hiddenSize: c.hiddenSize,
      numLayers: c.numLayers,
      vocabSize: c.vocabSize,
      params,
    },
    requests,
    maxTokens,
    rounds,
    warmup,
    threads: options.threads ?? null,
    server: {
      maxConcurrent: limits.maxConcurrent,
      maxQueue: limits.maxQueue,
      client: "openai npm, non-streaming, loopback",
    },
    loadAverage,
    loadAverageEnd: Deno.loadavg()[0],
    cpus: navigator.hardwareConcurrency,
    levels: results,
    httpOverhead,
    correctness: {
      compared,
      failures,
      mismatches,
      ok: failures === 0 && mismatches === 0,
      examples,
    },
    totalSeconds: (performance.now() - started) / 1000,
  };
}

/** Human-readable report of a {@link ServeBenchResult}. */
export function formatServeBench(r: ServeBenchResult): string {
  const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");
  const row = (label: string, s: ServePathStats) =>
    `    ${label.padEnd(7)} ${f(s.requestsPerSecond, 2).padStart(9)} ${f(s.p50Ms).padStart(9)} ${
      f(s.p95Ms).padStart(9)
    } ${f(s.tokensPerSecond).padStart(9)} ${String(s.requests).padStart(5)} ${
      String(s.failures).padStart(5)
    }`;
  const lines = [
    `serve benchmark: ${r.model.preset}-layout model (hidden ${r.model.hiddenSize}, ` +
    `${r.model.numLayers} layers, vocab ${r.model.vocabSize}, ${f(r.model.params / 1e6, 1)} M ` +
    `params), max_tokens ${r.maxTokens}, ${r.requests} requests per level × ${r.rounds} round(s)`,
    `  server: ${r.server.client}, maxConcurrent ${r.server.maxConcurrent}; ${r.cpus} CPUs, ` +
    `load average ${f(r.loadAverage, 2)} at start, ${f(r.loadAverageEnd, 2)} at end`,
    `    path        req/s   p50 ms    p95 ms    tok/s  reqs  fail`,
  ];
  for (const l of r.levels) {
    lines.push(`  concurrency ${l.concurrency}`);
    lines.push(row("direct", l.direct));
    lines.push(row("server", l.server));
    lines.push(
      `    server/direct: throughput ${f(l.ratios.throughput, 3)}×, p50 ${
        f(l.ratios.p50, 3)
      }×, p95 ${f(l.ratios.p95, 3)}× (p50 ${l.addedP50Ms >= 0 ? "+" : ""}${f(l.addedP50Ms)} ms)` +
        (l.roundRatios.length > 1
          ? `; throughput by round ${l.roundRatios.map((x) => f(x.throughput, 2)).join(", ")}`
          : ""),
    );
  }
  if (r.httpOverhead.length) {
    lines.push(
      "HTTP path alone (same client and server, a model that answers at once): " +
        r.httpOverhead.map((h) =>
          `c=${h.concurrency}: ${f(h.requestsPerSecond, 0)} req/s, p50 ${f(h.p50Ms, 2)} ms, ` +
          `p95 ${f(h.p95Ms, 2)} ms${h.failures ? ` (${h.failures} failed)` : ""}`
        ).join("; "),
    );
  }
  const c = r.correctness;
  lines.push(
    `correctness: ${c.compared} server answers compared with direct ones: ${c.failures} failed, ` +
      `${c.mismatches} differed${c.ok ? " (all identical)" : ""}` +
      (c.examples.length ? `\n  ${c.examples.join("\n  ")}` : ""),
  );
  lines.push(`total ${f(r.totalSeconds)} s`);
  return lines.join("\n");
}
