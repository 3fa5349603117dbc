/**
 * `LocalChatModel`: a ChatModel over the local {@link Engine}. It maps OpenAI-style requests onto
 * generation options, turns `steering` entries into residual edits, hands request `extensions`
 * to the engine's adapters (hirpf's `identities`; the engine refuses a name none of them reads),
 * and applies decoding constraints for `response_format` / `constraint`.
 *
 * Steering and constraints come from functions the model hub injects (core/services: the vector
 * steering resolver and plugin steerers); request extensions answered by a wrapper (such as
 * persona_vectors' `projections`) are removed by the plugin's wrapper around this model before
 * they get here (core/contracts/request_extension.ts).
 *
 * @module
 */

import type {
  ChatChoice,
  ChatChunk,
  ChatModel,
  ChatRequest,
  ChatResponse,
  FinishReason,
} from "../contracts/chat_model.ts";
import type { ResidualEdit, SteeringItem } from "../contracts/steerer.ts";
import { withCode } from "../errors.ts";
import type { Engine, EngineGenerateOptions, EngineResult } from "../model/engine.ts";
import type { MaskContext } from "../model/sampling.ts";
import type { ModelTokenizer } from "../model/tokenizer.ts";
import { constraintFor } from "../model/constraint/mod.ts";

/** Builds the allowed-token hook for a request, or null when the request has no constraint. */
export type ConstraintFactory = (
  request: ChatRequest,
  tokenizer: ModelTokenizer,
  limits: { maxTokens: number; eosTokenIds: readonly number[] },
) => ((step: number, context: MaskContext) => Iterable<number> | Uint8Array | null) | null;

/** The default constraint compiler: choices, regex and JSON Schema (core/model/constraint). */
export const defaultConstraint: ConstraintFactory = (request, tokenizer, limits) =>
  constraintFor(request, tokenizer, limits);

/** Turns steering entries into residual edits for this model. */
export type SteeringResolver = (
  entries: readonly SteeringItem[],
  model: { numLayers: number; hiddenSize: number },
) => Promise<ResidualEdit[]>;

/** Options of {@link LocalChatModel}. */
export interface LocalChatModelOptions {
  /** The model id reported in responses and cache keys; default the engine's model directory. */
  id?: string;
  steering?: SteeringResolver;
  /** Compiles `response_format` / `constraint` into a token mask; default {@link defaultConstraint}. */
  constraint?: ConstraintFactory;
  /** Default `max_tokens`; default 256. */
  maxTokens?: number;
  /** Default temperature when a request sets none; default 1 (as OpenAI). */
  temperature?: number;
}

let counter = 0;
const newId = () => `chatcmpl-local-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/**
 * A ChatModel backed by the local engine.
 *
 * @example
 * ```ts ignore
 * import { Engine } from "../model/engine.ts";
 * import { LocalChatModel } from "./local_chat_model.ts";
 * const model = new LocalChatModel(await Engine.load("./tiny"));
 * const r = await model.chat({ messages: [{ role: "user", content: "Hi" }], max_tokens: 8, seed: 1 });
 * console.log(r.choices[0].message.content);
 * ```
 */
export class LocalChatModel implements ChatModel {
  readonly id: string;
  readonly engine: Engine;
  #options: LocalChatModelOptions;

  constructor(engine: Engine, options: LocalChatModelOptions = {}) {
    this.engine = engine;
    this.id = options.id ?? engine.modelDir;
    this.#options = options;
  }

  async #generateOptions(request: ChatRequest): Promise<EngineGenerateOptions> {
    const top = request.top_logprobs;
    const opts: EngineGenerateOptions = {
      maxNewTokens: request.max_tokens ?? this.#options.maxTokens ?? 256,
      temperature: request.temperature ?? this.#options.temperature ?? 1,
      topP: request.top_p,
      topK: request.top_k,
      repetitionPenalty: request.repetition_penalty,
      n: request.n ?? 1,
      seed: request.seed,
      stop: request.stop,
      logprobs: request.logprobs === true || (top !== undefined && top > 0),
      topLogprobs: top,
      signal: request.signal,
    };
    if (request.extensions && Object.keys(request.extensions).length) {
      opts.extensions = request.extensions;
    }
    if (request.steering?.length) {
      if (!this.#options.steering) {
        throw withCode(
          new TypeError(
            `${this.id}: the request has steering but this model has no steering resolver; ` +
              "build it through the model hub, which wires the steering resolver",
          ),
          "E_CONFIG",
        );
      }
      const { numLayers, hiddenSize } = this.engine.config;
      opts.edits = await this.#options.steering(request.steering, { numLayers, hiddenSize });
    }
    const wantsConstraint = request.constraint !== undefined ||
      (request.response_format !== undefined && request.response_format.type !== "text");
    if (wantsConstraint) {
      const compile = this.#options.constraint ?? defaultConstraint;
      const hook = compile(request, this.engine.tokenizer, {
        maxTokens: opts.maxNewTokens!,
        eosTokenIds: this.engine.decoder.eosTokenIds,
      });
      if (hook) {
        opts.allowedTokens = hook;
        // A stop string could cut a constrained output (say, JSON) in the middle.
        delete opts.stop;
      }
    }
    return opts;
  }

  #response(result: EngineResult, created: number, id: string): ChatResponse {
    const choices: ChatChoice[] = result.completions.map((c, index) => ({
      index,
      message: { role: "assistant", content: c.text },
      finish_reason: c.finishReason as FinishReason,
      logprobs: c.logprobs ? { content: c.logprobs } : null,
    }));
    const promptTokens = result.promptTokens[0]?.length ?? 0;
    const completion = result.completions.reduce((a, c) => a + c.tokens.length, 0);
    return {
      id,
      model: this.id,
      created,
      choices,
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completion,
        total_tokens: promptTokens + completion,
      },
      metadata: {
        token_ids: result.completions.map((c) => c.tokens),
        seed: result.seed,
        prefill_tokens_per_second: result.stats.prefillTokensPerSecond,
        decode_tokens_per_second: result.stats.decodeTokensPerSecond,
      },
    };
  }

  /** The model's context window in tokens (`max_position_embeddings`). */
  contextWindow(): number {
    return this.engine.config.maxPositionEmbeddings;
  }

  /** The prompt's token count with the chat template and generation prompt, as generation sees it. */
  countPromptTokens(messages: ChatRequest["messages"]): number {
    return this.engine.encode(messages)[0].length;
  }

  /** Answers a chat request with the local engine. */
  async chat(request: ChatRequest): Promise<ChatResponse> {
    const options = await this.#generateOptions(request);
    const result = await this.engine.generate(request.messages, options);
    return this.#response(result, Math.floor(Date.now() / 1000), newId());
  }

  /**
   * Streams a chat request: one chunk per token with its text, then a final chunk with usage.
   */
  async *stream(request: ChatRequest): AsyncIterable<ChatChunk> {
    const options = await this.#generateOptions(request);
    const id = newId();
    const created = Math.floor(Date.now() / 1000);
    const base = { id, model: this.id, created };
    const started = new Set<number>();
    for await (const ev of this.engine.stream(request.messages, options)) {
      if (ev.type === "delta" || ev.type === "finish") {
        const first = !started.has(ev.index);
        started.add(ev.index);
        const delta: { role?: "assistant"; content?: string } = first ? { role: "assistant" } : {};
        if (ev.text) delta.content = ev.text;
        if (ev.type === "delta" && !ev.text && !first && !ev.logprob) continue;
        yield {
          ...base,
          choices: [{
            index: ev.index,
            delta,
            finish_reason: ev.type === "finish" ? ev.finishReason as FinishReason : null,
            ...(ev.type === "delta" && ev.logprob ? { logprobs: { content: [ev.logprob] } } : {}),
          }],
        };
      } else {
        const { usage, metadata } = this.#response(ev.result, created, id);
        yield { ...base, choices: [], usage, metadata };
      }
    }
  }
}
