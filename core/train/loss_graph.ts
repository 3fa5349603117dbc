/**
 * The training loss of a causal language model as graph nodes: token cross-entropy with the
 * next-token shift, where label -100 marks tokens that carry no loss (prompt, system and user
 * turns, padding).
 *
 * @module
 */

import { withCode } from "../errors.ts";
import type { GraphBuilder } from "../onnx/builder.ts";

/** The label value of tokens that carry no loss (as in PyTorch / Hugging Face). */
export const IGNORE_INDEX = -100;

/** Options of {@link appendCausalLmLoss}. */
export interface CausalLmLossOptions {
  /** Logits value `[batch, seq, vocab]`. */
  logits: string;
  /** Unshifted int64 labels value `[batch, seq]`: the input ids, -100 where no loss is taken. */
  labels: string;
  /** Vocabulary size (the static last dim of the logits). */
  vocabSize: number;
  /**
   * `mean` over unmasked tokens (default) or their `sum` (the trainer sums across micro-batches
   * and divides by the token count of the whole optimizer step).
   */
  reduction?: "mean" | "sum";
}

/**
 * Appends the shifted, masked cross-entropy: position t predicts token t+1, so the labels are
 * shifted left by one and the last position gets -100. Returns the scalar loss value.
 * SoftmaxCrossEntropyLoss over `[batch·seq, vocab]` avoids copying or slicing the logits.
 *
 * @example
 * ```ts
 * import { GraphBuilder } from "../onnx/builder.ts";
 * import { appendCausalLmLoss } from "./loss_graph.ts";
 * const b = new GraphBuilder();
 * const logits = b.input("logits", "float32", ["batch", "seq", 10]);
 * const labels = b.input("labels", "int64", ["batch", "seq"]);
 * b.output("loss", "float32", [], appendCausalLmLoss(b, { logits, labels, vocabSize: 10 }));
 * ```
 */
export function appendCausalLmLoss(b: GraphBuilder, options: CausalLmLossOptions): string {
  const { logits, labels, vocabSize } = options;
  const reduction = options.reduction ?? "mean";
  if (reduction !== "mean" && reduction !== "sum") {
    throw withCode(
      new TypeError(`reduction is ${JSON.stringify(reduction)}; use "mean" or "sum"`),
      "E_USAGE",
    );
  }
  if (!Number.isInteger(vocabSize) || vocabSize <= 0) {
    throw withCode(
      new RangeError(`vocabSize is ${vocabSize}; pass the logits' last dim`),
      "E_USAGE",
    );
  }
  return b.scoped("loss", () => {
    const next = b.op1("Slice", [
      labels,
      b.constantInt([1], [1]),
      b.constantInt([2 ** 62], [1]),
      b.constantInt([1], [1]),
    ]);
    const batch = b.op1("Shape", [labels], { start: 0, end: 1 });
    const padShape = b.op1("Concat", [batch, b.constantInt([1], [1])], { axis: 0 });
    const pad = b.op1("ConstantOfShape", [padShape], {
      value: {
        name: "",
        dtype: "int64",
        shape: [1],
        data: BigInt64Array.from([BigInt(IGNORE_INDEX)]),
      },
    });
    const shifted = b.op1("Concat", [next, pad], { axis: 1 });
    const flatLogits = b.op1("Reshape", [logits, b.constantInt([-1, vocabSize], [2])]);
    const flatLabels = b.op1("Reshape", [shifted, b.constantInt([-1], [1])]);
    return b.op1("SoftmaxCrossEntropyLoss", [flatLogits, flatLabels], {
      ignore_index: IGNORE_INDEX,
      reduction,
    });
  });
}

/**
 * Number of tokens that carry loss in one row of unshifted labels: positions t ≥ 1 whose label is
 * not -100 (each is predicted from position t-1).
 *
 * @example
 * ```ts
 * import { countLossTokens } from "./loss_graph.ts";
 * console.log(countLossTokens([-100, -100, 5, 6])); // 2
 * ```
 */
export function countLossTokens(labels: ArrayLike<number | bigint>): number {
  let n = 0;
  for (let t = 1; t < labels.length; t++) if (Number(labels[t]) !== IGNORE_INDEX) n++;
  return n;
}
