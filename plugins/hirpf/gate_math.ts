/**
 * A plain float64 reference of the identity-expert layer math (spec A4) for one token: masked gate
 * logits, a softmax over the experts of the group, and the weighted sum of LoRA deltas. When no
 * expert of the group is active the group adds nothing. This is the oracle the ONNX adapter is
 * tested against; dropout is not applied (inference semantics).
 *
 * Two ways the hard mask enters the logits (`maskMode`):
 * - `exclude` (default): `z_e = sigmoid(G_e·x + b_e)` for an active expert, `-5e4` for an inactive
 *   one, so inactive experts always get weight 0 (softmax over the active experts only);
 * - `multiply` (the released 8-bit module, spec A4): `z_e = sigmoid(G_e·x + b_e) · m_e` with
 *   `m_e = 1` (active) or `-5e4` (inactive). When an inactive expert's gate logit is very
 *   negative (below about −10) its sigmoid underflows, `z_e ≈ 0`, and it leaks into the mix.
 *
 * @module
 */

/** The hard-mask multiplier of inactive experts. */
export const HARD_MASK_VALUE = -5e4;

/** How the hard mask enters the gate logits (see the module docs); default `exclude`. */
export type GateMaskMode = "multiply" | "exclude";

/** Options of the gate oracle. */
export interface GateMathOptions {
  /** Hard mask on (default true); false lets every expert of the group contribute. */
  sparse?: boolean;
  /** How the mask enters the logits (default `exclude`). */
  maskMode?: GateMaskMode;
}

/** The parameters of one expert group at one target module. */
export interface ExpertGroupParams {
  /** Gate weights `[E][d_in]`. */
  gateWeight: readonly (readonly number[])[];
  /** Gate bias `[E]` (absent in the 4-bit variant: treated as zeros). */
  gateBias?: readonly number[];
  /** LoRA A per expert `[E][r][d_in]`. */
  loraA: readonly (readonly (readonly number[])[])[];
  /** LoRA B per expert `[E][d_out][r]`. */
  loraB: readonly (readonly (readonly number[])[])[];
  /** `alpha / r`. */
  scaling: number;
}

function dot(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) {
    throw new RangeError(
      `vector lengths differ (${a.length} vs ${b.length}); check d_in of the weights`,
    );
  }
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Gate weights of one group for input `x`: the softmax of masked sigmoid logits. Returns `null`
 * when `sparse` is on (default) and no expert is active, i.e. the group contributes nothing. With
 * `sparse: false` the mask is all ones and `active` is ignored (the released default).
 *
 * @example
 * ```ts
 * import { expertGateWeights } from "./gate_math.ts";
 * console.log(expertGateWeights([1, 0], [[0, 0], [1, 1]], [0, 0], [true, false])?.weights); // [1, 0]
 * // The spec's multiply formula: an inactive expert with gate logit −40 leaks (weight ≈ 0.38).
 * const leak = expertGateWeights([1], [[0], [-40]], [0, 0], [true, false], { maskMode: "multiply" });
 * console.log((leak?.weights[1] ?? 0) > 0.3); // true
 * ```
 */
export function expertGateWeights(
  x: readonly number[],
  gateWeight: readonly (readonly number[])[],
  gateBias: readonly number[] | undefined,
  active: readonly boolean[],
  options: GateMathOptions = {},
): { logits: number[]; weights: number[] } | null {
  const sparse = options.sparse ?? true;
  const exclude = (options.maskMode ?? "exclude") === "exclude";
  if (active.length !== gateWeight.length) {
    throw new RangeError(
      `active has ${active.length} flags but the group has ${gateWeight.length} experts`,
    );
  }
  if (sparse && !active.some(Boolean)) return null;
  const logits = gateWeight.map((g, e) => {
    const s = 1 / (1 + Math.exp(-(dot(g, x) + (gateBias?.[e] ?? 0))));
    if (!sparse || active[e]) return s;
    return exclude ? HARD_MASK_VALUE : s * HARD_MASK_VALUE;
  });
  const max = Math.max(...logits);
  const ex = logits.map((z) => Math.exp(z - max));
  const sum = ex.reduce((a, b) => a + b, 0);
  return { logits, weights: ex.map((v) => v / sum) };
}

/**
 * The delta one expert group adds to a module output for input `x` (`d_out` numbers); all zeros
 * when no expert of the group is active (sparse mode).
 *
 * @example
 * ```ts
 * import { expertGroupDelta } from "./gate_math.ts";
 * const d = expertGroupDelta([1, 2], { gateWeight: [[0, 0]], loraA: [[[1, 1]]], loraB: [[[2]]],
 *   scaling: 0.5 }, [true]);
 * console.log(d); // [3]  (0.5 · 2 · (1 + 2))
 * ```
 */
export function expertGroupDelta(
  x: readonly number[],
  group: ExpertGroupParams,
  active: readonly boolean[],
  options: GateMathOptions = {},
): number[] {
  const E = group.gateWeight.length;
  if (group.loraA.length !== E || group.loraB.length !== E) {
    throw new RangeError(
      `group has ${E} gate rows but ${group.loraA.length} A and ${group.loraB.length} B matrices; ` +
        `pass one A and one B per expert`,
    );
  }
  const dOut = group.loraB[0]?.length ?? 0;
  const delta = new Array<number>(dOut).fill(0);
  const gate = expertGateWeights(x, group.gateWeight, group.gateBias, active, options);
  if (gate === null) return delta;
  for (let e = 0; e < E; e++) {
    const w = gate.weights[e];
    if (w === 0) continue;
    const h = group.loraA[e].map((row) => dot(row, x));
    for (let o = 0; o < dOut; o++) delta[o] += w * group.scaling * dot(group.loraB[e][o], h);
  }
  return delta;
}

/**
 * The full module output for one token: `y = W x (+ bias) + Σ_g delta_g(x)` over the groups the
 * layer hosts (one group in flat/alternate, all groups summed in parallel in layered mode).
 *
 * @example
 * ```ts
 * import { identityModuleOutput } from "./gate_math.ts";
 * const y = identityModuleOutput([1], [[2]], undefined, []);
 * console.log(y); // [2]
 * ```
 */
export function identityModuleOutput(
  x: readonly number[],
  weight: readonly (readonly number[])[],
  bias: readonly number[] | undefined,
  groups: readonly { params: ExpertGroupParams; active: readonly boolean[] }[],
  options: GateMathOptions = {},
): number[] {
  const y = weight.map((row, o) => dot(row, x) + (bias?.[o] ?? 0));
  for (const g of groups) {
    const d = expertGroupDelta(x, g.params, g.active, options);
    for (let o = 0; o < y.length; o++) y[o] += d[o] ?? 0;
  }
  return y;
}
