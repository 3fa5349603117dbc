/**
 * ChatModels and the wrappers around them. `LocalChatModel` runs the local engine;
 * `OpenAIChatModel` talks to any OpenAI-compatible endpoint; `withRetry`, `withConcurrency`,
 * `CachedChatModel` and `LedgerChatModel` each wrap a ChatModel and are one themselves, so they
 * compose in any order. A typical stack for an experiment against a remote API, outermost
 * first: ledger → cache → concurrency → retry → model.
 *
 * @example
 * ```ts
 * import { CachedChatModel, LedgerChatModel, OpenAIChatModel, withConcurrency, withRetry } from "./mod.ts";
 * const remote = withConcurrency(withRetry(new OpenAIChatModel({ model: "gpt-4o-mini" })), { limit: 8 });
 * const model = new LedgerChatModel(new CachedChatModel(remote, { path: ".cache/chat.sqlite" }), {
 *   prices: { "gpt-4o-mini": { input: 0.15, output: 0.6 } }, ceilingUsd: 2,
 * });
 * ```
 *
 * @module
 */

export * from "./cached_chat_model.ts";
export * from "./canonical_json.ts";
export * from "./chunks.ts";
export * from "./fifo_limiter.ts";
export * from "./ledger_chat_model.ts";
export * from "./local_chat_model.ts";
export * from "./openai_chat_model.ts";
export * from "./request_extensions.ts";
export * from "./with_concurrency.ts";
export * from "./with_retry.ts";
