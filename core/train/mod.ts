/**
 * The core training engine: chat data and masking, the train-step graph (decoder + masked loss +
 * backward pass), AdamW with schedules and clipping, micro-batching, checkpoints and the loop.
 *
 * @example
 * ```ts
 * import { buildTrainGraph, parseChatData, tokenizeDataset, trainLoop } from "./mod.ts";
 * console.log(typeof buildTrainGraph, typeof parseChatData, typeof tokenizeDataset, typeof trainLoop);
 * ```
 *
 * @module
 */

export * from "./adamw.ts";
export * from "./batches.ts";
export * from "./chat_data.ts";
export * from "./chat_tokenize.ts";
export * from "./checkpoint.ts";
export * from "./loss_graph.ts";
export * from "./runner.ts";
export * from "./schedule.ts";
export * from "./step_feeds.ts";
export * from "./train_graph.ts";
export * from "./train_loop.ts";
export * from "./write_model.ts";
export * from "./train_result.ts";
export * from "./truncate.ts";
