/**
 * Conversions between the adapter's graph parameters (experts of a group stacked and transposed,
 * see `adapter_layout.ts`) and the per-expert checkpoint tensors (PEFT orientation), plus the
 * spec A4 initialisation. Pure data shuffling: float32 values are copied, never rounded, so a
 * save / load round trip is bit-exact.
 *
 * @module
 */

import { withCode } from "../../core/errors.ts";
import type { Prng } from "../../core/util/prng.ts";
import {
  checkpointExpertNames,
  checkpointGateNames,
  type ExpertModule,
  parameterNames,
} from "./adapter_layout.ts";

/** A named float32 tensor (row-major). */
export interface Float32Tensor {
  shape: number[];
  data: Float32Array;
}

/** Graph-layout tensors of one module, keyed like {@link parameterNames}. */
export interface ModuleParameters {
  loraA: Float32Tensor;
  loraB: Float32Tensor;
  gateWeight: Float32Tensor;
  gateBias: Float32Tensor;
}

/**
 * Fresh parameters of one module as spec A4 initialises them: every `A_e` Kaiming-uniform with
 * a = √5, i.e. U(−1/√in, 1/√in); every `B_e` zero (so the adapter starts as the base model); the
 * gate as a default `nn.Linear`, weight and bias U(−1/√in, 1/√in).
 *
 * @example
 * ```ts
 * import { initModuleParameters } from "./adapter_tensors.ts";
 * import { Prng } from "../../core/util/prng.ts";
 * const m = { hook: "layers.0.attn.q_proj", layer: 0, proj: "q_proj" as const, group: 0,
 *   experts: ["Doctor", "Artist"], inFeatures: 4, outFeatures: 4 };
 * const p = initModuleParameters(m, 2, new Prng(0));
 * console.log(p.loraA.shape, p.loraB.data.every((v) => v === 0)); // [4, 4] true
 * ```
 */
export function initModuleParameters(m: ExpertModule, r: number, rng: Prng): ModuleParameters {
  const E = m.experts.length;
  const bound = 1 / Math.sqrt(m.inFeatures);
  const u = () => (2 * rng.next() - 1) * bound;
  const A = new Float32Array(m.inFeatures * E * r);
  for (let e = 0; e < E; e++) {
    for (let j = 0; j < r; j++) {
      for (let i = 0; i < m.inFeatures; i++) A[i * E * r + e * r + j] = u();
    }
  }
  const G = new Float32Array(m.inFeatures * E);
  for (let e = 0; e < E; e++) for (let i = 0; i < m.inFeatures; i++) G[i * E + e] = u();
  const bias = Float32Array.from({ length: E }, u);
  return {
    loraA: { shape: [m.inFeatures, E * r], data: A },
    loraB: { shape: [E * r, m.outFeatures], data: new Float32Array(E * r * m.outFeatures) },
    gateWeight: { shape: [m.inFeatures, E], data: G },
    gateBias: { shape: [E], data: bias },
  };
}

/**
 * Splits a module's graph parameters into per-expert checkpoint tensors (`A [r, in]`,
 * `B [out, r]`, gate `[E, in]` and `[E]`), named as `adapter_layout.ts` documents.
 *
 * @example
 * ```ts
 * import { initModuleParameters, moduleToCheckpoint } from "./adapter_tensors.ts";
 * import { Prng } from "../../core/util/prng.ts";
 * const m = { hook: "layers.0.attn.q_proj", layer: 0, proj: "q_proj" as const, group: 0,
 *   experts: ["Doctor"], inFeatures: 4, outFeatures: 4 };
 * const t = moduleToCheckpoint(m, 2, initModuleParameters(m, 2, new Prng(0)));
 * console.log([...t.keys()]);
 * // ["layers.0.attn.q_proj.0.Doctor.lora_A", "layers.0.attn.q_proj.0.Doctor.lora_B",
 * //  "layers.0.attn.q_proj.0.gate.weight", "layers.0.attn.q_proj.0.gate.bias"]
 * ```
 */
export function moduleToCheckpoint(
  m: ExpertModule,
  r: number,
  p: ModuleParameters,
): Map<string, Float32Tensor> {
  const E = m.experts.length;
  const { inFeatures: din, outFeatures: dout } = m;
  const out = new Map<string, Float32Tensor>();
  m.experts.forEach((expert, e) => {
    const A = new Float32Array(r * din);
    for (let j = 0; j < r; j++) {
      for (let i = 0; i < din; i++) A[j * din + i] = p.loraA.data[i * E * r + e * r + j];
    }
    const B = new Float32Array(dout * r);
    for (let j = 0; j < r; j++) {
      for (let o = 0; o < dout; o++) B[o * r + j] = p.loraB.data[(e * r + j) * dout + o];
    }
    const names = checkpointExpertNames(m, expert);
    out.set(names.loraA, { shape: [r, din], data: A });
    out.set(names.loraB, { shape: [dout, r], data: B });
  });
  const G = new Float32Array(E * din);
  for (let e = 0; e < E; e++) {
    for (let i = 0; i < din; i++) G[e * din + i] = p.gateWeight.data[i * E + e];
  }
  const gate = checkpointGateNames(m);
  out.set(gate.weight, { shape: [E, din], data: G });
  out.set(gate.bias, { shape: [E], data: p.gateBias.data.slice() });
  return out;
}

/**
 * Gathers a module's graph parameters from checkpoint tensors, checking every shape. `lookup`
 * returns a tensor by checkpoint name or `undefined`; errors name `source` (the file), the tensor
 * and the fix.
 *
 * @example
 * ```ts
 * import { checkpointToModule, initModuleParameters, moduleToCheckpoint } from "./adapter_tensors.ts";
 * import { Prng } from "../../core/util/prng.ts";
 * const m = { hook: "layers.0.attn.q_proj", layer: 0, proj: "q_proj" as const, group: 0,
 *   experts: ["Doctor"], inFeatures: 4, outFeatures: 4 };
 * const t = moduleToCheckpoint(m, 2, initModuleParameters(m, 2, new Prng(0)));
 * const p = checkpointToModule(m, 2, (n) => t.get(n), "memory");
 * console.log(p.loraA.shape); // [4, 2]
 * ```
 */
export function checkpointToModule(
  m: ExpertModule,
  r: number,
  lookup: (name: string) => Float32Tensor | undefined,
  source: string,
): ModuleParameters {
  const E = m.experts.length;
  const { inFeatures: din, outFeatures: dout } = m;
  const get = (name: string, shape: number[], meaning: string): Float32Array => {
    const t = lookup(name);
    if (!t) {
      throw withCode(
        new RangeError(
          `${source}: tensor "${name}" is missing; the config needs it (${meaning}, shape [${shape}]) — ` +
            `the weights do not match the config's experts, insert mode or target modules`,
        ),
        "E_WEIGHTS",
      );
    }
    if (
      t.shape.join(",") !== shape.join(",") || t.data.length !== shape.reduce((a, b) => a * b, 1)
    ) {
      throw withCode(
        new RangeError(
          `${source}: tensor "${name}" has shape [${t.shape}] but ${m.hook} needs [${shape}] (${meaning}); ` +
            `load the checkpoint with the base model it was trained on (in ${din}, out ${dout}, r ${r} here)`,
        ),
        "E_WEIGHTS",
      );
    }
    return t.data;
  };
  const A = new Float32Array(din * E * r);
  const B = new Float32Array(E * r * dout);
  m.experts.forEach((expert, e) => {
    const names = checkpointExpertNames(m, expert);
    const a = get(names.loraA, [r, din], `LoRA A of ${expert}: [r, in]`);
    const b = get(names.loraB, [dout, r], `LoRA B of ${expert}: [out, r]`);
    for (let j = 0; j < r; j++) {
      for (let i = 0; i < din; i++) A[i * E * r + e * r + j] = a[j * din + i];
    }
    for (let j = 0; j < r; j++) {
      for (let o = 0; o < dout; o++) B[(e * r + j) * dout + o] = b[o * r + j];
    }
  });
  const gate = checkpointGateNames(m);
  const g = get(gate.weight, [E, din], "gate weight: [experts, in]");
  const G = new Float32Array(din * E);
  for (let e = 0; e < E; e++) for (let i = 0; i < din; i++) G[i * E + e] = g[e * din + i];
  const bias = get(gate.bias, [E], "gate bias: [experts]").slice();
  return {
    loraA: { shape: [din, E * r], data: A },
    loraB: { shape: [E * r, dout], data: B },
    gateWeight: { shape: [din, E], data: G },
    gateBias: { shape: [E], data: bias },
  };
}

/**
 * The graph parameter names of a module, in the adapter's stable order (A, B, gate weight, bias).
 *
 * @example
 * ```ts
 * import { orderedParameterNames } from "./adapter_tensors.ts";
 * console.log(orderedParameterNames({ hook: "layers.0.attn.q_proj", group: 1 })[3]);
 * // "hirpf.layers.0.attn.q_proj.g1.gate.bias"
 * ```
 */
export function orderedParameterNames(
  m: Pick<ExpertModule, "hook" | "group">,
): [string, string, string, string] {
  const n = parameterNames(m);
  return [n.loraA, n.loraB, n.gateWeight, n.gateBias];
}
