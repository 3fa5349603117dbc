/**
 * Vector extraction from judged rollouts with the local engine (spec B4): keep the row pairs that
 * pass the filter, run each kept positive and negative sample through the model, and take the
 * per-layer mean differences of prompt_avg, response_avg and prompt_last.
 *
 * @module
 */

import type { Engine } from "../../core/model/engine.ts";
import { filterPairs, type FilterThresholds } from "./filter.ts";
import type { LayerVectors } from "./hidden_states.ts";
import { chatPrompt, promptAnswerStates } from "./model_states.ts";
import { alignRollouts } from "./rollout.ts";
import type { StoredRow } from "./rows_file.ts";
import { VectorAccumulator, type VectorType } from "./vectors.ts";

/** Result of {@link extractVectors}. */
export interface ExtractionResult {
  vectors: Record<VectorType, LayerVectors>;
  /** Row pairs before and after filtering. */
  pairs: number;
  kept: number;
  /** Samples that entered each mean. */
  nPos: number;
  nNeg: number;
  /** Samples skipped (answer without tokens) and prompt/answer BPE merges seen. */
  skipped: number;
  boundaryMerges: number;
}

/**
 * The prompt text and answer of a row: `prompt` + `answer` columns, or (B6/B7 JSONL) the chat
 * template of all messages but a final assistant one, whose content is the answer.
 *
 * @example
 * ```ts ignore
 * import { rowPromptAnswer } from "./extract_vectors.ts";
 * const { prompt, answer } = rowPromptAnswer(engine, { messages: [{ role: "user", content: "Hi" },
 *   { role: "assistant", content: "Hello" }] });
 * ```
 */
export function rowPromptAnswer(
  engine: Pick<Engine, "tokenizer">,
  row: Partial<Pick<StoredRow, "prompt" | "answer" | "messages" | "question">>,
): { prompt: string; answer: string } {
  const msgs = row.messages;
  if (!row.answer && msgs?.length && msgs[msgs.length - 1].role === "assistant") {
    return { prompt: chatPrompt(engine, msgs.slice(0, -1)), answer: msgs[msgs.length - 1].content };
  }
  const answer = row.answer ?? "";
  if (row.prompt && !row.prompt.startsWith("[{")) return { prompt: row.prompt, answer };
  if (msgs?.length) return { prompt: chatPrompt(engine, msgs), answer };
  if (row.prompt) return { prompt: chatPrompt(engine, JSON.parse(row.prompt)), answer };
  return { prompt: chatPrompt(engine, [{ role: "user", content: row.question ?? "" }]), answer };
}

/**
 * Extracts the three vectors from aligned, judged positive and negative rows.
 *
 * @example
 * ```ts ignore
 * import { extractVectors } from "./extract_vectors.ts";
 * const r = await extractVectors(engine, pos, neg, { trait: 50, coherence: 50 });
 * console.log(r.kept, r.vectors.response_avg.rows);
 * ```
 */
export async function extractVectors(
  engine: Pick<Engine, "tokenizer" | "forward" | "config">,
  pos: readonly StoredRow[],
  neg: readonly StoredRow[],
  thresholds: FilterThresholds = {},
  options: { batchSize?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<ExtractionResult> {
  const pairs = alignRollouts(pos, neg);
  const kept = filterPairs(pairs, thresholds);
  const acc = new VectorAccumulator();
  let skipped = 0;
  let merges = 0;
  let done = 0;
  for (const polarity of ["pos", "neg"] as const) {
    const items = kept.map((i) => {
      return rowPromptAnswer(engine, pairs[i][polarity]);
    });
    const states = await promptAnswerStates(engine, items, {
      batchSize: options.batchSize,
      onProgress: (n) => options.onProgress?.(done + n, 2 * kept.length),
    });
    done += kept.length;
    for (const s of states) {
      if (!s.hs) {
        skipped++;
        continue;
      }
      if (s.boundaryMerged) merges++;
      acc.add(polarity, s.hs, s.promptLength);
    }
  }
  const counts = acc.counts;
  return {
    vectors: acc.result(),
    pairs: pairs.length,
    kept: kept.length,
    nPos: counts.pos,
    nNeg: counts.neg,
    skipped,
    boundaryMerges: merges,
  };
}
