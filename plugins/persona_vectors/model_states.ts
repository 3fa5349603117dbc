/**
 * Hidden states of prompt + answer from the local engine (spec B4/B6): one forward pass over the
 * token ids of `prompt + answer` (no special tokens added: the chat-templated prompt already has
 * them), with `P` = the token count of the prompt tokenized alone.
 *
 * @module
 */

import type { ChatMessage } from "../../core/contracts/chat_model.ts";
import type { ResidualEdit } from "../../core/contracts/steerer.ts";
import type { Engine } from "../../core/model/engine.ts";
import type { HiddenStates } from "./hidden_states.ts";

/** One text to run: the chat-templated prompt and the answer that follows it. */
export interface PromptAnswer {
  prompt: string;
  answer: string;
}

/** The states of one sample, or why it was skipped. */
export type SampleStates =
  | { hs: HiddenStates; promptLength: number; boundaryMerged: boolean; skipped?: undefined }
  | { skipped: string; hs?: undefined };

/**
 * The chat-templated prompt text (with the generation prompt) the engine would generate from.
 *
 * @example
 * ```ts ignore
 * import { chatPrompt } from "./model_states.ts";
 * const text = chatPrompt(engine, [{ role: "user", content: "Hi" }]);
 * ```
 */
export function chatPrompt(
  engine: Pick<Engine, "tokenizer">,
  messages: readonly ChatMessage[],
): string {
  return engine.tokenizer.applyChatTemplate(
    messages.map((m) => ({ role: m.role, content: m.content })),
    { addGenerationPrompt: true },
  );
}

/** Options of {@link promptAnswerStates}. */
export interface PromptAnswerStatesOptions {
  /** Samples per forward pass (left-padded together); default 4. */
  batchSize?: number;
  /** Residual edits during the pass (needs a steering engine). */
  edits?: readonly ResidualEdit[];
  /** Called after each batch with the number of samples done. */
  onProgress?: (done: number) => void;
}

/**
 * Runs the engine over each `prompt + answer` and returns its hidden states `[L+1][T][d]`
 * (row 0 embeddings, row l the residual after block l-1, row L after the final norm) and `P`.
 * A sample whose answer adds no token is skipped with a reason. `boundaryMerged` says the prompt's
 * tokens are not a prefix of the full sequence's (a BPE merge across the boundary, which the
 * reference implementation ignores too; `P` is still the prompt's own length).
 *
 * @example
 * ```ts ignore
 * import { promptAnswerStates } from "./model_states.ts";
 * const [s] = await promptAnswerStates(engine, [{ prompt: "<|user|>Hi<|assistant|>", answer: "Hello" }]);
 * console.log(s.hs?.rows, s.promptLength);
 * ```
 */
export async function promptAnswerStates(
  engine: Pick<Engine, "tokenizer" | "forward" | "config">,
  items: readonly PromptAnswer[],
  options: PromptAnswerStatesOptions = {},
): Promise<SampleStates[]> {
  const batchSize = options.batchSize ?? 4;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize is ${batchSize}; pass a whole number >= 1`);
  }
  const out: SampleStates[] = new Array(items.length);
  const todo: { index: number; ids: number[]; promptLength: number; merged: boolean }[] = [];
  items.forEach((item, index) => {
    const p = engine.tokenizer.encode(item.prompt, { addSpecialTokens: false });
    const ids = engine.tokenizer.encode(item.prompt + item.answer, { addSpecialTokens: false });
    if (p.length < 1) {
      out[index] = { skipped: "the prompt has no tokens" };
    } else if (ids.length <= p.length) {
      out[index] = { skipped: "the answer adds no token" };
    } else {
      const merged = p.some((t, i) => ids[i] !== t);
      todo.push({ index, ids, promptLength: p.length, merged });
    }
  });
  const L = engine.config.numLayers;
  const d = engine.config.hiddenSize;
  let done = 0;
  for (let start = 0; start < todo.length; start += batchSize) {
    const batch = todo.slice(start, start + batchSize);
    const r = await engine.forward(batch.map((b) => b.ids), {
      hiddenStates: true,
      edits: options.edits,
    });
    const states = r.hiddenStates!;
    const S = states[0].dims[1];
    batch.forEach((b, k) => {
      const T = b.ids.length;
      const pad = r.padding[k];
      const data = new Float32Array((L + 1) * T * d);
      for (let l = 0; l <= L; l++) {
        const src = states[l].data as Float32Array;
        const from = (k * S + pad) * d;
        data.set(src.subarray(from, from + T * d), l * T * d);
      }
      out[b.index] = {
        hs: { rows: L + 1, tokens: T, hidden: d, data },
        promptLength: b.promptLength,
        boundaryMerged: b.merged,
      };
    });
    done += batch.length;
    options.onProgress?.(done);
  }
  return out;
}
