/**
 * {@link Engine}: a loaded model ready to generate. It resolves the model directory, parses the
 * config, loads the tokenizer, builds and exports the ONNX decoder into a cache keyed by a hash of
 * the config, the weight files (names, sizes, mtimes), the build options and the adapters'
 * parameter values (so a second load skips the export), and opens a worker-backed onnxruntime
 * session. Adapter parameters are baked into the exported graph as initializers, so a decode step
 * sends only the adapters' runtime inputs (identity masks), never their weights.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Adapter } from "../contracts/adapter.ts";
import type { ChatMessage, FinishReason, TokenLogprob } from "../contracts/chat_model.ts";
import type { ResidualEdit } from "../contracts/steerer.ts";
import { withCode } from "../errors.ts";
import type { Provider } from "../runtime/providers.ts";
import { OrtSession } from "../runtime/session.ts";
import type { WireTensor } from "../runtime/tensor.ts";
import { type DecoderConfig, readDecoderConfig } from "./config.ts";
import { decoderHooks } from "./decoder_graph.ts";
import { exportDecoder } from "./export.ts";
import type { HubOptions } from "./hub.ts";
import { resolveModel } from "./model_dir.ts";
import {
  type DecoderModel,
  forwardPass,
  type ForwardResult,
  type GenerateOptions,
  generateStream,
  type GenerationStats,
} from "./generate.ts";
import type { SelectedToken } from "./sampling.ts";
import { loadTokenizer, type ModelTokenizer } from "./tokenizer.ts";
import { type StreamedWeights, streamWeights } from "./weights.ts";
import { PrefixCache } from "./prefix_cache.ts";
import {
  isQuantized,
  normalizeWeightFormat,
  type WeightDtype,
  type WeightFormat,
} from "./quantize.ts";
import { keptWeightPages } from "./kept_pages.ts";
import { checkpointDtype } from "./prequantized.ts";
import { pathExists } from "../util/fs.ts";
import type { BuildIdentity, GraphRecord } from "./graph_cache.ts";
import { collectGarbage } from "../util/gc.ts";

/** Bump when the exported graph format changes in a way file stamps would not show. */
const GRAPH_FORMAT = 10;

/** Options of {@link Engine.load}. */
export interface EngineOptions {
  /** Execution provider; default `cpu`. */
  provider?: Provider;
  /** Threads inside one op (default: one per core). */
  threads?: number;
  /** Build the graph with steering inputs (needed for `edits`). Default false. */
  steering?: boolean;
  /**
   * Adapters built into the graph. Their parameters are baked into it as they are at load time
   * (later changes to the adapter's arrays need a new `Engine.load`); their runtime inputs are fed
   * on every call.
   */
  adapters?: Adapter[];
  /** Where exported graphs are cached; default `$DRAMATIS_CACHE/graphs` or `~/.cache/dramatis/graphs`. */
  cacheDir?: string;
  /** Reports load steps (resolve, export, session) for progress output. */
  onProgress?: (step: string) => void;
  /** Endpoint, token, revision and cache of hub downloads (hub ids only). */
  hub?: HubOptions;
  /**
   * Bytes of saved prompt prefixes (keys and values) kept for reuse, e.g. a persona's system
   * prompt and card across the turns of a simulation; 0 turns reuse off. Default 256 MiB.
   */
  prefixCacheBytes?: number;
  /** Prompt tokens per prefill call (bounds prefill scratch memory); default 256. */
  prefillChunk?: number;
  /**
   * How the frozen weights are stored in the graph: `f32` (default), `f16`, `bf16`, `int8` or
   * `int4` (blocks of 128; `"int4:32"` or `{ dtype: "int4", blockSize: 32 }` for 32). See
   * core/model/quantize.ts. Default: the `DRAMATIS_DTYPE` environment variable, else a GPTQ/AWQ
   * checkpoint's own bits ({@link resolveWeightFormat}), else `f32`.
   */
  dtype?: WeightDtype | WeightFormat | string;
  /**
   * `MatMulNBits` accuracy level of int4/int8 weights (0 = float32 compute, 4 = int8, the
   * default), over whatever dtype is used (one asked for, `DRAMATIS_DTYPE` or a checkpoint's).
   */
  accuracyLevel?: number;
  /**
   * Where the weights come from when the graph is exported, instead of the directory's
   * safetensors (e.g. seeded weights generated tensor by tensor for a 7B-shaped benchmark model,
   * quantized as they are written, never held whole). Its `id` enters the graph and weights
   * cache keys. The directory still provides config.json and the tokenizer.
   */
  weightSource?: WeightSource;
  /**
   * Arithmetic precision of the graph: `f32`, or `f16` (weights, activations and the cache
   * inside the graph in float16, inputs and outputs float32; what GPU providers run in half the
   * memory). Default: `f16` on the cuda and webgpu providers when the weights are stored as
   * `f16` or `bf16`, else `f32`. On the CPU provider onnxruntime runs most float16 operators
   * through casts to float32, so `f16` there only serves checks.
   */
  compute?: "f32" | "f16";
}

/**
 * The graph precision {@link Engine.load} uses: `compute` when given, else `f16` for f16/bf16
 * weights on a GPU provider and `f32` otherwise.
 *
 * @example
 * ```ts
 * import { defaultCompute } from "./engine.ts";
 * console.log(defaultCompute("cuda", "f16"), defaultCompute("cpu", "f16")); // f16 f32
 * ```
 */
export function defaultCompute(
  provider: Provider,
  dtype: WeightDtype,
  compute?: "f32" | "f16",
): "f32" | "f16" {
  if (compute !== undefined) {
    if (compute !== "f32" && compute !== "f16") {
      throw withCode(
        new TypeError(`compute is ${JSON.stringify(compute)}; use "f32" or "f16"`),
        "E_USAGE",
      );
    }
    return compute;
  }
  return provider !== "cpu" && (dtype === "f16" || dtype === "bf16") ? "f16" : "f32";
}

/** Weights produced on demand for {@link EngineOptions.weightSource}. */
export interface WeightSource {
  /** Identifies the values (e.g. `seeded:7`): part of the cache keys. */
  id: string;
  /** Opens the weights, streamed: each tensor's `data` is produced when read. */
  open(config: DecoderConfig): Promise<StreamedWeights>;
}

/** What can be generated from: text prompt(s), chat conversation(s), or token ids. */
export type EngineInput =
  | string
  | readonly string[]
  | readonly ChatMessage[]
  | readonly (readonly ChatMessage[])[]
  | { inputIds: readonly (readonly number[])[] };

/** Request extensions of one prompt that adapters turn into runtime inputs, by name. */
export type AdapterExtensions = Readonly<Record<string, unknown>>;

/** Whether an extension value asks for anything (undefined, null and empty arrays do not). */
function asks(value: unknown): boolean {
  return value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0);
}

/** The extensions of prompt `p` that ask for something, in name order. */
function extensionsOfPrompt(
  extensions: EngineGenerateOptions["extensions"],
  p: number,
): [string, unknown][] {
  const one = Array.isArray(extensions)
    ? (extensions as readonly AdapterExtensions[])[p]
    : extensions as AdapterExtensions | undefined;
  return Object.entries(one ?? {}).filter(([, v]) => asks(v)).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0
  );
}

/** Options of {@link Engine.generate} and {@link Engine.stream}. */
export interface EngineGenerateOptions extends Omit<GenerateOptions, "runtimeInputs"> {
  /**
   * Request extensions the model's adapters read (e.g. hirpf's `{ identities: ["EXT_high"] }`),
   * one object for all prompts or one per prompt; a name no adapter reads is an `E_USAGE` error.
   */
  extensions?: AdapterExtensions | readonly AdapterExtensions[];
  /** A chat template to use instead of the model's own. */
  chatTemplate?: string;
  /** Extra chat-template variables (e.g. `{ enable_thinking: false }`). */
  templateVariables?: Record<string, unknown>;
}

/** One completion with token strings resolved. */
export interface EngineCompletion {
  prompt: number;
  index: number;
  text: string;
  tokens: number[];
  finishReason: FinishReason;
  logprobs?: TokenLogprob[];
  /** Why a `length` finish came early (the model's position limit). */
  notice?: string;
}

/** Result of {@link Engine.generate}. */
export interface EngineResult {
  completions: EngineCompletion[];
  /** Prompt token ids, per prompt. */
  promptTokens: number[][];
  stats: GenerationStats;
  seed: number;
}

/** Events of {@link Engine.stream}. */
export type EngineEvent =
  | {
    type: "delta";
    prompt: number;
    index: number;
    text: string;
    token: number;
    logprob?: TokenLogprob;
  }
  | { type: "finish"; prompt: number; index: number; text: string; finishReason: FinishReason }
  | { type: "done"; result: EngineResult };

function isMessage(x: unknown): x is ChatMessage {
  return typeof x === "object" && x !== null && "role" in x && "content" in x;
}

/**
 * A loaded model.
 *
 * @example
 * ```ts
 * import { Engine } from "./engine.ts";
 * const engine = await Engine.load("./models/tiny", { provider: "cpu", threads: 2 });
 * const r = await engine.generate([{ role: "user", content: "Hi" }], { maxNewTokens: 16 });
 * console.log(r.completions[0].text);
 * await engine.close();
 * ```
 */
export class Engine {
  #session: OrtSession;
  #model: DecoderModel;
  #anchor: number[] | undefined;
  #anchorText = "";
  #adapters: Adapter[];
  /** The model directory. */
  readonly modelDir: string;
  /** The parsed config. */
  readonly config: DecoderConfig;
  /** The tokenizer and chat template. */
  readonly tokenizer: ModelTokenizer;
  /** The exported graph file the session runs. */
  readonly graphPath: string;
  /** Whether the graph takes steering inputs. */
  readonly steering: boolean;
  /** Saved prompt prefixes this engine reuses (undefined when reuse is off). */
  readonly prefixCache: PrefixCache | undefined;
  #prefillChunk: number | undefined;

  private constructor(init: {
    session: OrtSession;
    modelDir: string;
    config: DecoderConfig;
    tokenizer: ModelTokenizer;
    graphPath: string;
    steering: boolean;
    adapters: Adapter[];
    prefixCache?: PrefixCache;
    prefillChunk?: number;
  }) {
    this.prefixCache = init.prefixCache;
    this.#prefillChunk = init.prefillChunk;
    this.#session = init.session;
    this.modelDir = init.modelDir;
    this.config = init.config;
    this.tokenizer = init.tokenizer;
    this.graphPath = init.graphPath;
    this.steering = init.steering;
    this.#adapters = init.adapters;
    const c = init.config;
    const eos = [...new Set([...c.eosTokenIds, ...init.tokenizer.eosTokenIds])];
    this.#model = {
      session: init.session,
      shape: {
        numLayers: c.numLayers,
        numKvHeads: c.numKvHeads,
        headDim: c.headDim,
        hiddenSize: c.hiddenSize,
        numHeads: c.numHeads,
      },
      eosTokenIds: eos,
      padTokenId: init.tokenizer.padTokenId ?? c.padTokenId ?? eos[0] ?? 0,
      decode: (ids) => this.#spell(ids, true),
      maxPositions: c.maxPositionEmbeddings,
    };
    const known = new Set([
      "input_ids",
      "attention_mask",
      "position_ids",
      "num_logits_to_keep",
    ]);
    const missing = init.session.inputNames.filter((n) =>
      !known.has(n) && !n.startsWith("past_key_values.") && !/^(steer|ablate)\.\d+\./.test(n) &&
      !this.#adapters.some((a) => a.runtimeInputs)
    );
    if (missing.length > 0) {
      throw withCode(
        new TypeError(
          `the graph needs inputs ${
            missing.join(", ")
          } that no adapter provides; pass the adapters it was built with`,
        ),
        "E_GRAPH",
      );
    }
  }

  /**
   * Loads a model directory (or hub id), exporting its graph on first use.
   *
   * @example
   * ```ts
   * import { Engine } from "./engine.ts";
   * const engine = await Engine.load("./models/tiny", { steering: true });
   * console.log(engine.config.numLayers, engine.graphPath);
   * await engine.close();
   * ```
   */
  static async load(modelDirOrId: string, options: EngineOptions = {}): Promise<Engine> {
    const log = options.onProgress ?? (() => {});
    log(`resolving ${modelDirOrId}`);
    const { dir: modelDir } = await resolveModel(modelDirOrId, options.hub);
    const config = await readDecoderConfig(modelDir);
    const tokenizer = await loadTokenizer(modelDir);
    const steering = options.steering ?? false;
    const adapters = options.adapters ?? [];
    const resolved = await resolveWeightFormat(modelDir, config, options.dtype, log);
    const weightFormat = options.accuracyLevel === undefined
      ? resolved
      : normalizeWeightFormat({ ...resolved, accuracyLevel: options.accuracyLevel });
    const source = options.weightSource;
    const provider = options.provider ?? "cpu";
    const compute = defaultCompute(provider, weightFormat.dtype, options.compute);
    // Weights in blocks of 16 outputs: measured on onnxruntime's CPU kernels only.
    const blocked = provider === "cpu";
    const key = await graphKey(modelDir, config, {
      steering,
      adapters,
      weights: weightFormat,
      source: source?.id,
      compute,
      blocked,
    });
    const root = options.cacheDir ?? defaultGraphCacheDir();
    const graphDir = join(root, key);
    const graphPath = join(graphDir, "model.onnx");
    const done = join(graphDir, "done.json");
    if (await pathExists(done)) {
      // Marks the folder used (the cache's `--older-than` pruning reads this time).
      const now = new Date();
      await Deno.utime(done, now, now).catch(() => {});
    } else {
      log("opening the weights");
      // Streamed: each tensor is read (and transposed or quantized) only as it is written.
      const { weights, close } = source
        ? await source.open(config)
        : await streamWeights(modelDir, config);
      log(`exporting the ONNX graph to ${graphDir}`);
      const tmp = `${graphDir}.tmp-${crypto.randomUUID()}`;
      try {
        await exportDecoder(config, weights, tmp, {
          steering,
          adapters,
          bakeParameters: true,
          hiddenStates: true,
          kvCache: "resident",
          fused: true,
          blockedWeights: blocked,
          // Only onnxruntime opens these files: it repacks the lm_head first, then the rest.
          largestProductFirst: true,
          weights: weightFormat,
          compute: compute === "f16" ? "float16" : "float32",
          // One copy of the base weights per model and weight format, linked into every graph.
          sharedWeightsDir: join(
            root,
            "weights",
            await weightsKey(modelDir, config, weightFormat, source?.id, compute, blocked),
          ),
          sharedWeightsSource: {
            modelDir,
            weights: weightFormat,
            ...(source ? { source: source.id } : {}),
          },
        });
        // What `dramatis model cache` needs to tell a stale folder (see graph_cache.ts).
        const { format, builder, halfPass } = await graphBuildIdentity();
        const record: GraphRecord = {
          modelDir,
          steering,
          adapters: adapters.map((a) => a.kind),
          build: { format, builder, ...(compute === "f16" ? { halfPass } : {}) },
          ...(source ? { source: source.id } : { files: await weightFileStamps(modelDir) }),
        };
        await Deno.writeTextFile(join(tmp, "done.json"), JSON.stringify(record) + "\n");
        await Deno.rename(tmp, graphDir).catch(async (e) => {
          // Another process exported the same graph first: keep theirs.
          if (!(await pathExists(join(graphDir, "done.json")))) throw e;
        });
      } finally {
        close();
        await Deno.remove(tmp, { recursive: true }).catch(() => {});
      }
    }
    // The export's garbage (read and quantized tables) and the tokenizer's go before onnxruntime
    // allocates its repacked weights: nothing in JavaScript would prompt a collection until then.
    collectGarbage();
    log("opening the session");
    const session = await OrtSession.create(graphPath, {
      provider,
      intraOpThreads: options.threads,
      // Float32 weights stay in the mapped data file (once, even the tied embedding) instead of
      // being repacked into private copies; quantized kernels want their repacked layout.
      prepacking: weightFormat.dtype !== "f32" || compute === "f16",
      // What the quantized CPU kernels keep mapped beside their copies (scales, tied table);
      // at accuracy levels below 4 the kernels read the original scales at every run.
      pageOut: provider === "cpu" && isQuantized(weightFormat.dtype) &&
          (weightFormat.accuracyLevel ?? 4) === 4
        ? await keptWeightPages(graphPath).catch(() => undefined)
        : undefined,
    });
    try {
      const bytes = options.prefixCacheBytes ?? 256 * 1024 * 1024;
      return new Engine({
        session,
        modelDir,
        config,
        tokenizer,
        graphPath,
        steering,
        adapters,
        prefixCache: bytes > 0 ? new PrefixCache({ maxBytes: bytes }) : undefined,
        prefillChunk: options.prefillChunk,
      });
    } catch (e) {
      await session.release();
      throw e;
    }
  }

  /** Where the onnxruntime session runs: its execution provider and intra-op thread count. */
  get session(): { provider: Provider; intraOpThreads: number | undefined } {
    return { provider: this.#session.provider, intraOpThreads: this.#session.intraOpThreads };
  }

  /** The decoder as the generation loop sees it (session, sizes, EOS, pad, decode). */
  get decoder(): DecoderModel {
    return this.#model;
  }

  /** Turns any {@link EngineInput} into token ids, one list per prompt. */
  encode(
    input: EngineInput,
    options: Pick<EngineGenerateOptions, "chatTemplate" | "templateVariables"> = {},
  ): number[][] {
    if (typeof input === "string") return [this.tokenizer.encode(input)];
    if (!Array.isArray(input)) {
      const ids = (input as { inputIds?: number[][] }).inputIds;
      if (!Array.isArray(ids)) {
        throw withCode(
          new TypeError(
            "input is not a string, string[], messages, messages[] or { inputIds }; pass one of those",
          ),
          "E_USAGE",
        );
      }
      return ids.map((r) => [...r]);
    }
    if (input.length === 0) {
      throw withCode(new TypeError("input is an empty list; pass at least one prompt"), "E_USAGE");
    }
    const chat = (m: readonly ChatMessage[]) =>
      this.tokenizer.encodeChat(m.map((x) => ({ role: x.role, content: x.content })), {
        addGenerationPrompt: true,
        chatTemplate: options.chatTemplate,
        variables: options.templateVariables,
      });
    if (isMessage(input[0])) return [chat(input as readonly ChatMessage[])];
    if (typeof input[0] === "string") {
      return (input as readonly string[]).map((s) => this.tokenizer.encode(s));
    }
    return (input as readonly (readonly ChatMessage[])[]).map(chat);
  }

  #runtimeInputs(extensions: EngineGenerateOptions["extensions"], prompts: number) {
    // Parameters are baked into the graph: only the adapters' runtime inputs go with each call.
    const readers = new Set(
      this.#adapters.flatMap((a) => (a.runtimeInputs ? a.requestExtensions ?? [] : [])),
    );
    const asked = new Set<string>();
    for (let p = 0; p < Math.max(prompts, 1); p++) {
      for (const [name] of extensionsOfPrompt(extensions, p)) asked.add(name);
    }
    const unread = [...asked].filter((name) => !readers.has(name));
    if (unread.length > 0) {
      // Never ignore a request extension silently: a model without an adapter that reads it
      // cannot apply it.
      const shown = unread.map((name) =>
        `${name} ${
          JSON.stringify(extensionsOfPrompt(extensions, 0).find(([n]) => n === name)?.[1] ?? "…")
            ?.slice(0, 120)
        }`
      );
      throw withCode(
        new RangeError(
          `the request extension${unread.length > 1 ? "s" : ""} ${shown.join(", ")} ` +
            `${unread.length > 1 ? "were" : "was"} asked for, but no adapter of this model ` +
            `reads ${unread.length > 1 ? "them" : "it"} (${
              readers.size ? `its adapters read ${[...readers].join(", ")}` : "it has none that do"
            }); drop ${unread.length > 1 ? "them" : "it"}, or load the plugin that defines ${
              unread.length > 1 ? "them" : "it"
            } and build the model through the model hub (with a persona's adapters where an ` +
            "adapter answers it)",
        ),
        "E_USAGE",
      );
    }
    if (!this.#adapters.some((a) => a.runtimeInputs)) return undefined;
    return (promptOfRow: readonly number[]): Record<string, WireTensor> => {
      const feeds: Record<string, WireTensor> = {};
      const columns: Record<string, unknown[]> = {};
      for (const name of asked) {
        columns[name] = promptOfRow.map((p) =>
          extensionsOfPrompt(extensions, p).find(([n]) => n === name)?.[1]
        );
      }
      for (const a of this.#adapters) {
        const extra = a.runtimeInputs?.({ batchSize: promptOfRow.length, extensions: columns }) ??
          {};
        for (const [name, t] of Object.entries(extra)) {
          feeds[name] = { dtype: t.dtype, dims: [...t.shape], data: t.data } as WireTensor;
        }
      }
      return feeds;
    };
  }

  /**
   * The text token ids spell after other text: decoded behind an anchor token that is then cut
   * off, so a SentencePiece decoder does not strip the leading space of a `▁` token (it strips
   * the first space of a whole decode, which is right for a document, wrong for a continuation).
   */
  #spell(ids: readonly number[], skipSpecialTokens: boolean, inContext = true): string {
    if (!inContext) return this.tokenizer.decode(ids, { skipSpecialTokens });
    if (this.#anchor === undefined) {
      const a = this.tokenizer.encode("a", { addSpecialTokens: false });
      this.#anchor = a.length > 0 ? [a[a.length - 1]] : [];
      this.#anchorText = this.tokenizer.decode(this.#anchor, { skipSpecialTokens: true });
    }
    if (this.#anchor.length === 0) return this.tokenizer.decode(ids, { skipSpecialTokens });
    const text = this.tokenizer.decode([...this.#anchor, ...ids], { skipSpecialTokens });
    return text.startsWith(this.#anchorText)
      ? text.slice(this.#anchorText.length)
      : this.tokenizer.decode(ids, { skipSpecialTokens });
  }

  #logprob(s: SelectedToken): TokenLogprob {
    const str = (id: number) => this.#spell([id], false);
    return {
      token: str(s.token),
      logprob: s.logprob,
      top_logprobs: s.top.map((t) => ({ token: str(t.token), logprob: t.logprob })),
    };
  }

  /**
   * Streams generation events: `delta` per token, `finish` per completion, then one `done` with
   * the full result.
   *
   * @example
   * ```ts
   * import { Engine } from "./engine.ts";
   * const engine = await Engine.load("./models/tiny");
   * for await (const ev of engine.stream("Once upon a time", { maxNewTokens: 20 })) {
   *   if (ev.type === "delta") console.log(ev.text);
   * }
   * ```
   */
  async *stream(
    input: EngineInput,
    options: EngineGenerateOptions = {},
  ): AsyncGenerator<EngineEvent, void> {
    const prompts = this.encode(input, options);
    const { extensions, chatTemplate: _t, templateVariables: _v, ...gen } = options;
    // A chat reply is text of its own: decoded as a whole (a SentencePiece decoder drops the
    // space the template put before it, as transformers does); a raw continuation is spelled
    // after its prompt, leading space kept.
    const chat = Array.isArray(input) && input.length > 0 && typeof input[0] !== "string";
    const model = chat
      ? { ...this.#model, decode: (ids: readonly number[]) => this.#spell(ids, true, false) }
      : this.#model;
    const it = generateStream(model, prompts, {
      prefillChunk: this.#prefillChunk,
      prefixCache: this.prefixCache,
      ...gen,
      // Prefixes are reused only under the same adapter inputs.
      prefixCondition: (p) => JSON.stringify(extensionsOfPrompt(extensions, p)),
      runtimeInputs: this.#runtimeInputs(extensions, prompts.length),
    });
    for (;;) {
      const step = await it.next();
      if (step.done) {
        const r = step.value;
        yield {
          type: "done",
          result: {
            seed: r.seed,
            stats: r.stats,
            promptTokens: prompts,
            completions: r.completions.map((c) => ({
              prompt: c.prompt,
              index: c.index,
              text: c.text,
              tokens: c.tokens,
              finishReason: c.finishReason,
              ...(c.logprobs ? { logprobs: c.logprobs.map((s) => this.#logprob(s)) } : {}),
              ...(c.notice ? { notice: c.notice } : {}),
            })),
          },
        };
        return;
      }
      const ev = step.value;
      if (ev.type === "delta") {
        yield {
          type: "delta",
          prompt: ev.prompt,
          index: ev.index,
          text: ev.text,
          token: ev.token,
          ...(ev.logprob ? { logprob: this.#logprob(ev.logprob) } : {}),
        };
      } else yield ev;
    }
  }

  /**
   * Generates completions for one or more prompts or conversations.
   *
   * @example
   * ```ts
   * import { Engine } from "./engine.ts";
   * const engine = await Engine.load("./models/tiny");
   * const r = await engine.generate(["Hello", "Goodbye"], { maxNewTokens: 8, temperature: 0.7, seed: 1 });
   * console.log(r.completions.map((c) => c.text), r.stats.decodeTokensPerSecond);
   * ```
   */
  async generate(input: EngineInput, options: EngineGenerateOptions = {}): Promise<EngineResult> {
    for await (const ev of this.stream(input, options)) {
      if (ev.type === "done") return ev.result;
    }
    throw new Error("generation ended without a result");
  }

  /**
   * One forward pass over token ids (left-padded), optionally returning every hidden state
   * (`hiddenStates[j]` = HF `hidden_states[j]`, j = 0..numLayers) and applying residual edits.
   *
   * @example
   * ```ts
   * import { Engine } from "./engine.ts";
   * const engine = await Engine.load("./models/tiny");
   * const ids = engine.tokenizer.encode("I am happy");
   * const r = await engine.forward([ids], { hiddenStates: true });
   * console.log(r.hiddenStates![engine.config.numLayers].dims);
   * ```
   */
  forward(
    inputIds: readonly (readonly number[])[],
    options: {
      hiddenStates?: boolean;
      edits?: readonly ResidualEdit[];
      /** Request extensions the adapters read, one object for all rows or one per row. */
      extensions?: EngineGenerateOptions["extensions"];
      /** Logits of only the last k positions (`[B, k, V]`); default all. */
      logitsToKeep?: number;
    } = {},
  ): Promise<ForwardResult> {
    return forwardPass(this.#model, inputIds, {
      hiddenStates: options.hiddenStates,
      edits: options.edits,
      logitsToKeep: options.logitsToKeep,
      runtimeInputs: this.#runtimeInputs(options.extensions, inputIds.length),
    });
  }

  /** Releases the session and its worker. */
  async close(): Promise<void> {
    await this.#session.release();
  }
}

/**
 * Where {@link Engine.load} caches exported graphs unless told: `$DRAMATIS_CACHE/graphs`, else
 * `~/.cache/dramatis/graphs`.
 *
 * @example
 * ```ts
 * import { defaultGraphCacheDir } from "./engine.ts";
 * console.log(defaultGraphCacheDir().endsWith("graphs")); // true
 * ```
 */
export function defaultGraphCacheDir(): string {
  return join(Deno.env.get("DRAMATIS_CACHE") ?? join(homedir(), ".cache", "dramatis"), "graphs");
}

/**
 * What the running engine builds graphs with (format and builder stamps) and how it stamps a
 * model's weight files: what {@link listGraphCache} compares cached folders against.
 *
 * @example
 * ```ts
 * import { graphBuildIdentity } from "./engine.ts";
 * const id = await graphBuildIdentity();
 * console.log(id.format, id.builder.length);
 * ```
 */
export async function graphBuildIdentity(): Promise<BuildIdentity> {
  return {
    format: GRAPH_FORMAT,
    builder: await builderStamps(),
    halfPass: await halfPassStamps(),
    fileStamps: weightFileStamps,
  };
}

/** Stamps (size, mtime) of the graph builder's own source files, when they are local files. */
async function builderStamps(
  files: readonly string[] = [
    "./decoder_graph.ts",
    "./graph_layers.ts",
    "./graph_rope.ts",
    "./export.ts",
    "./graph_quant.ts",
    "./quantize.ts",
    "./prequantized.ts",
    "./weights.ts",
    "../onnx/fold_outputs.ts",
  ],
): Promise<string[]> {
  const out: string[] = [];
  for (const f of files) {
    const url = new URL(f, import.meta.url);
    if (url.protocol !== "file:") continue;
    try {
      const st = await Deno.stat(fileURLToPath(url));
      out.push(`${f}:${st.size}:${st.mtime?.getTime()}`);
    } catch {
      // not shipped as files: the format constant covers it
    }
  }
  return out;
}

/** Stamps of the float16 graph pass: part of the keys of float16 graphs and their weights only. */
const halfPassStamps = () => builderStamps(["../onnx/float16_compute.ts"]);

/**
 * The cache key of an exported graph: a hash of the config, the weight files (name, size, mtime),
 * the build options, the graph builder version and the adapters' parameter values (they are baked
 * into the graph, so another checkpoint of the same adapter gets another graph).
 *
 * @example
 * ```ts
 * import { graphKey } from "./engine.ts";
 * import { readDecoderConfig } from "./config.ts";
 * const config = await readDecoderConfig("./models/tiny");
 * const key = await graphKey("./models/tiny", config, { steering: false, adapters: [] });
 * console.log(key.length); // 24 hex digits
 * ```
 */
export async function graphKey(
  modelDir: string,
  config: DecoderConfig,
  options: {
    steering: boolean;
    adapters: readonly Adapter[];
    weights?: WeightFormat;
    /** {@link WeightSource.id} when the weights do not come from the directory. */
    source?: string;
    /** Graph precision (f32 keeps the key it had before float16 graphs existed). */
    compute?: "f32" | "f16";
    /** Float32 weights in blocks of 16 outputs (the CPU provider's graphs); default true. */
    blocked?: boolean;
  },
): Promise<string> {
  const files = await weightFileStamps(modelDir);
  const hooks = decoderHooks(config);
  const adapters = options.adapters.map((a) => ({
    kind: a.kind,
    targets: a.targets(hooks.map((x) => ({ ...x }))),
    params: a.parameters().map((p) => [p.name, p.shape, parameterDigest(p.data)]),
    config: (a as { config?: unknown }).config ?? null,
  }));
  const h = createHash("sha256");
  h.update(JSON.stringify({
    format: GRAPH_FORMAT,
    builder: await builderStamps(),
    config: config.raw,
    files,
    steering: options.steering,
    bakedParameters: true,
    kvCache: "resident",
    fused: true,
    adapters,
    // float32 keeps the key it had before weight formats existed.
    ...(options.weights && options.weights.dtype !== "f32"
      ? { weights: normalizeWeightFormat(options.weights) }
      : {}),
    ...(options.source !== undefined ? { source: options.source } : {}),
    ...(options.compute === "f16" ? { compute: "f16", halfPass: await halfPassStamps() } : {}),
    ...(options.blocked === false ? { blocked: false } : {}),
  }));
  return h.digest("hex").slice(0, 24);
}

/** Name, size and mtime of each weight file of a model directory, sorted: part of cache keys. */
async function weightFileStamps(modelDir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const e of Deno.readDir(modelDir)) {
    if (!e.isFile || !/\.safetensors(\.index\.json)?$/.test(e.name)) continue;
    const st = await Deno.stat(join(modelDir, e.name));
    files.push(`${e.name}:${st.size}:${st.mtime?.getTime()}`);
  }
  return files.sort();
}

/**
 * The cache key of a model's base weights in one format: the config, the weight files (name,
 * size, mtime), the weight format and the graph builder version — not the graph options, so
 * every graph variant of the model shares them.
 */
export async function weightsKey(
  modelDir: string,
  config: DecoderConfig,
  format: WeightFormat,
  source?: string,
  compute: "f32" | "f16" = "f32",
  blocked = true,
): Promise<string> {
  const files = await weightFileStamps(modelDir);
  const h = createHash("sha256");
  h.update(JSON.stringify({
    format: GRAPH_FORMAT,
    builder: await builderStamps(),
    config: config.raw,
    files,
    weights: normalizeWeightFormat(format),
    ...(source !== undefined ? { source } : {}),
    // Float16 graphs store their float32 initializers (norms, tables) as float16.
    ...(compute === "f16" ? { compute, halfPass: await halfPassStamps() } : {}),
    ...(blocked ? {} : { blocked }),
  }));
  return h.digest("hex").slice(0, 24);
}

/**
 * The weight format a model directory is loaded in: `dtype` where given, else `DRAMATIS_DTYPE`,
 * else, for a GPTQ/AWQ checkpoint, its own bits (`int4` / `int8`, `int4:32` for groups of 32 or
 * fewer: its packed layers then run on their own levels, and float32 would hold a 7B model's
 * 28 GB; said through `log`), else float32.
 *
 * @example
 * ```ts ignore
 * import { resolveWeightFormat } from "./engine.ts";
 * import { readDecoderConfig } from "./config.ts";
 * const dir = "models/llama-2-7b-chat-gptq";
 * console.log(await resolveWeightFormat(dir, await readDecoderConfig(dir))); // { dtype: "int4", … }
 * ```
 */
export async function resolveWeightFormat(
  modelDir: string,
  config: DecoderConfig,
  dtype?: WeightDtype | WeightFormat | string,
  log: (line: string) => void = () => {},
): Promise<Required<WeightFormat>> {
  const fromEnv = dtype === undefined ? envDtype() : undefined;
  const fromCheckpoint = dtype === undefined && fromEnv === undefined
    ? await checkpointDtype(modelDir, config.raw)
    : undefined;
  if (fromCheckpoint) {
    log(
      `${modelDir} is pre-quantized: stored as ${fromCheckpoint}, its packed layers on their own ` +
        `levels where their groups allow (a dtype option changes that)`,
    );
  }
  return normalizeWeightFormat(
    dtype ?? fromEnv ?? fromCheckpoint,
    fromEnv ? "DRAMATIS_DTYPE" : "dtype",
  );
}

/** `DRAMATIS_DTYPE`, where it is set and readable. */
function envDtype(): string | undefined {
  try {
    return Deno.env.get("DRAMATIS_DTYPE") || undefined;
  } catch {
    return undefined;
  }
}

/** SHA-256 (hex) of a parameter's raw float bytes. */
function parameterDigest(data: Float32Array): string {
  return createHash("sha256")
    .update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    .digest("hex");
}
