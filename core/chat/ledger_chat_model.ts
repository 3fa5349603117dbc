/**
 * `LedgerChatModel`: counts the tokens every call uses and what they cost, per model, with an
 * optional spend ceiling. Once the recorded spend reaches the ceiling, further calls fail with a
 * clear `E_BUDGET` error before reaching the inner model, so a long run stops cleanly.
 *
 * @module
 */

import type {
  ChatChunk,
  ChatModel,
  ChatRequest,
  ChatResponse,
  Usage,
} from "../contracts/chat_model.ts";
import { withCode } from "../errors.ts";
import { writeJsonAtomic } from "../util/atomic.ts";
import { ChunkCollector } from "./chunks.ts";

/** Prices in US dollars per one million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
}

/** Options of {@link LedgerChatModel}. */
export interface LedgerOptions {
  /** Prices by model name (the response's `model`, else the request's, else the inner id). */
  prices?: Record<string, ModelPrice>;
  /** Spend ceiling in dollars; needs a price for every model the ledger sees. */
  ceilingUsd?: number;
}

/** Totals for one model or for all. */
export interface LedgerTotals {
  calls: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: number;
  /** Calls whose model had no price (their cost counts as 0). */
  unpriced_calls: number;
  /** Streams that ended without a usage chunk (their tokens are unknown). */
  calls_without_usage: number;
}

/** The ledger as JSON. */
export interface LedgerReport {
  ceiling_usd: number | null;
  totals: LedgerTotals;
  by_model: Record<string, LedgerTotals>;
}

function zero(): LedgerTotals {
  return {
    calls: 0,
    prompt_tokens: 0,
    completion_tokens: 0,
    total_tokens: 0,
    cost_usd: 0,
    unpriced_calls: 0,
    calls_without_usage: 0,
  };
}

/**
 * A ChatModel that records token use and cost.
 *
 * @example
 * ```ts
 * import { LedgerChatModel } from "./ledger_chat_model.ts";
 * import { ScriptedChatModel } from "./testing/mod.ts";
 * const model = new LedgerChatModel(new ScriptedChatModel(), {
 *   prices: { scripted: { input: 0.15, output: 0.6 } }, ceilingUsd: 5,
 * });
 * await model.chat({ messages: [{ role: "user", content: "hi" }] });
 * console.log(model.report().totals.cost_usd);
 * ```
 */
export class LedgerChatModel implements ChatModel {
  readonly id: string;
  #inner: ChatModel;
  #prices: Record<string, ModelPrice>;
  #ceiling: number | undefined;
  #totals = zero();
  #byModel = new Map<string, LedgerTotals>();

  constructor(inner: ChatModel, options: LedgerOptions = {}) {
    this.#inner = inner;
    this.id = inner.id;
    this.#prices = options.prices ?? {};
    for (const [model, price] of Object.entries(this.#prices)) {
      for (const side of ["input", "output"] as const) {
        if (!Number.isFinite(price?.[side]) || price[side] < 0) {
          throw withCode(
            new RangeError(
              `prices.${model}.${side} is ${price?.[side]}; pass dollars per 1M tokens >= 0`,
            ),
            "E_CONFIG",
          );
        }
      }
    }
    if (options.ceilingUsd !== undefined && !(options.ceilingUsd >= 0)) {
      throw withCode(
        new RangeError(`ceilingUsd is ${options.ceilingUsd}; pass dollars >= 0`),
        "E_CONFIG",
      );
    }
    this.#ceiling = options.ceilingUsd;
  }

  /** Dollars spent so far. */
  get spentUsd(): number {
    return this.#totals.cost_usd;
  }

  /** Totals overall and per model. */
  report(): LedgerReport {
    return {
      ceiling_usd: this.#ceiling ?? null,
      totals: { ...this.#totals },
      by_model: Object.fromEntries([...this.#byModel].map(([k, v]) => [k, { ...v }])),
    };
  }

  /** Same as {@link report}, so `JSON.stringify(ledger)` gives the report. */
  toJSON(): LedgerReport {
    return this.report();
  }

  /** Writes the report as JSON, atomically. */
  export(path: string): Promise<void> {
    return writeJsonAtomic(path, this.report());
  }

  #modelName(request: ChatRequest, response?: { model?: string }): string {
    return response?.model || request.model || this.#inner.id;
  }

  #check(request: ChatRequest): void {
    if (this.#ceiling === undefined) return;
    const model = this.#modelName(request);
    if (this.#totals.cost_usd >= this.#ceiling) {
      throw withCode(
        new RangeError(
          `spend ceiling reached: $${this.#totals.cost_usd.toFixed(6)} spent of ceilingUsd ` +
            `$${this.#ceiling} over ${this.#totals.calls} calls; the call to ${model} was not made. ` +
            "Raise ceilingUsd to continue",
        ),
        "E_BUDGET",
      );
    }
    if (!this.#prices[model] && !this.#prices[this.#inner.id]) {
      throw withCode(
        new TypeError(
          `no price for model '${model}' while a spend ceiling is set; add prices['${model}'] = ` +
            "{ input, output } in dollars per 1M tokens",
        ),
        "E_CONFIG",
      );
    }
  }

  #record(model: string, usage: Usage | undefined): void {
    const price = this.#prices[model] ?? this.#prices[this.#inner.id];
    const cost = usage && price
      ? (usage.prompt_tokens * price.input + usage.completion_tokens * price.output) / 1e6
      : 0;
    let perModel = this.#byModel.get(model);
    if (!perModel) this.#byModel.set(model, perModel = zero());
    for (const t of [this.#totals, perModel]) {
      t.calls++;
      t.prompt_tokens += usage?.prompt_tokens ?? 0;
      t.completion_tokens += usage?.completion_tokens ?? 0;
      t.total_tokens += usage?.total_tokens ?? 0;
      t.cost_usd += cost;
      if (!price) t.unpriced_calls++;
      if (!usage) t.calls_without_usage++;
    }
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    this.#check(request);
    const response = await this.#inner.chat(request);
    this.#record(this.#modelName(request, response), response.usage);
    return response;
  }

  async *stream(request: ChatRequest): AsyncIterable<ChatChunk> {
    this.#check(request);
    const collector = new ChunkCollector();
    let model: string | undefined;
    try {
      for await (const chunk of this.#inner.stream(request)) {
        model ??= chunk.model;
        collector.add(chunk);
        yield chunk;
      }
    } finally {
      // A stream stopped early still spent what it generated; record what its usage said.
      this.#record(
        this.#modelName(request, { model }),
        collector.hasUsage ? collector.response().usage : undefined,
      );
    }
  }
}
