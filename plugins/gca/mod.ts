/**
 * `gca`: CoSER given-circumstance acting (arXiv 2502.09082) — the multi-agent scene simulator,
 * the flaw-based judge, BLEU / ROUGE-L, retrieval-augmented acting and the book-to-dataset
 * pipeline. `gca()` (plugin.ts) makes the Plugin object; this module also exports the building
 * blocks.
 *
 * @example
 * ```ts ignore
 * import { createGcaJudge, createGcaSimulator, judgeInputFromTranscript } from "./mod.ts";
 * import type { ChatModel } from "../../core/contracts/chat_model.ts";
 * declare const actor: ChatModel, environment: ChatModel, nsp: ChatModel, critic: ChatModel;
 * const records = JSON.parse(await Deno.readTextFile("plugins/gca/data/test_records.json"));
 * const t = await createGcaSimulator().simulate({ record: records[0] }, {
 *   models: { actor, environment, nsp },
 * });
 * const v = await createGcaJudge().judge(judgeInputFromTranscript(t), { model: critic });
 * ```
 *
 * @module
 */

export * from "./actor_prompt.ts";
export * from "./construction/mod.ts";
export * from "./embeddings.ts";
export * from "./environment_prompt.ts";
export * from "./history.ts";
export * from "./judge.ts";
export * from "./judge_prompt.ts";
export * from "./judge_simulations.ts";
export * from "./metrics/mod.ts";
export * from "./nsp_prompt.ts";
export {
  gca,
  type GcaPluginVerdict,
  pluginJudge,
  pluginSimulator,
  toJudgeInput,
} from "./plugin.ts";
export * from "./plugin_options.ts";
export * from "./postprocess.ts";
export * from "./progress_chat_model.ts";
export * from "./py_repr.ts";
export * from "./retrieval.ts";
export * from "./schemas.ts";
export * from "./simulate_records.ts";
export * from "./simulator.ts";
export * from "./speaker.ts";
export * from "./text_splitter.ts";
export * from "./thoughts.ts";
export * from "./transform/mod.ts";
export * from "./transform_book.ts";
