/**
 * A test fixture: a tiny model with a real tokenizer whose logits are rigged (a bigram table, see
 * core/model/testing/rig.ts) to answer a judge prompt with a chosen number, token by token, then
 * an end-of-turn token. Test-only.
 *
 * @module
 */

import {
  createRealTokenizerModel,
  type RealTokenizerPreset,
} from "../../../core/model/real_presets.ts";
import { rigNextTokens } from "../../../core/model/testing/rig.ts";
import { loadTokenizer } from "../../../core/model/tokenizer.ts";

/** What {@link createRiggedJudgeModel} rigged. */
export interface RiggedJudge {
  /** Token ids of the answer after the prompt. */
  answerIds: number[];
}

/**
 * Writes a model into `dir` that answers any user prompt (rendered with its chat template and
 * generation prompt) with `answer`, then an end-of-turn token.
 *
 * @example
 * ```ts ignore
 * import { createRiggedJudgeModel } from "./rigged_judge_model.ts";
 * await createRiggedJudgeModel("/tmp/j", "tiny-qwen3-real", "85");
 * ```
 */
export async function createRiggedJudgeModel(
  dir: string,
  preset: RealTokenizerPreset,
  answer: string,
  gain = 30,
): Promise<RiggedJudge> {
  await createRealTokenizerModel(dir, { preset, seed: 5, tieWordEmbeddings: false });
  const tok = await loadTokenizer(dir);
  const text = tok.applyChatTemplate([{ role: "user", content: "Rate this." }], {
    addGenerationPrompt: true,
  });
  const prompt = tok.encode(text, { addSpecialTokens: false });
  const full = tok.encode(text + answer, { addSpecialTokens: false });
  const answerIds = full.slice(prompt.length);
  const chain = [prompt[prompt.length - 1], ...answerIds, tok.eosTokenIds[0]];
  if (new Set(chain).size !== chain.length) {
    throw new Error(`the rig needs distinct tokens along ${JSON.stringify(chain)}`);
  }
  await rigNextTokens(
    dir,
    chain.slice(0, -1).map((from, i) => ({ from, to: chain[i + 1] })),
    gain,
  );
  return { answerIds };
}
