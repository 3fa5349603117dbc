/**
 * The one table of gradient rules: op type → rule. A node whose op has no entry here cannot sit
 * on a path from a differentiated input to the loss (E_GRAD_RULE names it).
 *
 * @module
 */

import type { GradRule } from "./context.ts";
import { ELEMENTWISE_RULES } from "./rules_elementwise.ts";
import { LINALG_RULES } from "./rules_linalg.ts";
import { QUANT_RULES } from "./rules_quant.ts";
import { REDUCE_RULES } from "./rules_reduce.ts";
import { SHAPE_RULES } from "./rules_shape.ts";

/**
 * Gradient rules of default-domain ops, keyed by op type.
 *
 * @example
 * ```ts
 * import { GRAD_RULES } from "./rules.ts";
 * console.log(Object.keys(GRAD_RULES).sort().join(" "));
 * ```
 */
export const GRAD_RULES: Readonly<Record<string, GradRule>> = Object.freeze({
  ...ELEMENTWISE_RULES,
  ...REDUCE_RULES,
  ...LINALG_RULES,
  ...SHAPE_RULES,
});

/**
 * Gradient rules of custom-domain ops, keyed `domain::op` (onnxruntime's quantized
 * `com.microsoft::MatMulNBits`: gradient of the activation only, the weights stay frozen).
 *
 * @example
 * ```ts
 * import { CUSTOM_GRAD_RULES } from "./rules.ts";
 * console.log(Object.keys(CUSTOM_GRAD_RULES)); // ["com.microsoft::MatMulNBits"]
 * ```
 */
export const CUSTOM_GRAD_RULES: Readonly<Record<string, GradRule>> = Object.freeze({
  ...QUANT_RULES,
});
