/**
 * A minimal LoRA-like adapter for engine tests (the real `lora` plugin lives in plugins/):
 * `delta = (x · A) · B · scale` at every targeted linear hook.
 *
 * @module
 */

import type {
  Adapter,
  AdapterGraphOps,
  AdapterTensor,
  LinearHook,
} from "../../contracts/adapter.ts";
import { Prng } from "../../util/prng.ts";

/** Options of {@link loraLike}. */
export interface LoraLikeOptions {
  rank?: number;
  scale?: number;
  /** Hook-name filter; default all linear hooks. */
  targets?: (hook: LinearHook) => boolean;
  seed?: number;
  /** Standard deviation of B at init (0 = standard LoRA init, the delta starts at zero). */
  bStd?: number;
}

/**
 * A test adapter with A `[in, r]` and B `[r, out]` per hook, named `<hook>.lora_A` / `.lora_B`.
 *
 * @example
 * ```ts
 * import { loraLike } from "./lora_like.ts";
 * const a = loraLike({ rank: 2 });
 * console.log(a.kind);
 * ```
 */
export function loraLike(
  options: LoraLikeOptions = {},
): Adapter & { params: Map<string, AdapterTensor> } {
  const rank = options.rank ?? 4;
  const scale = options.scale ?? 1;
  const rng = new Prng(options.seed ?? 0);
  const params = new Map<string, AdapterTensor>();
  const tensor = (name: string, shape: number[], std: number): AdapterTensor => {
    const data = Float32Array.from({ length: shape[0] * shape[1] }, () => std * rng.normal());
    return { name, shape, data };
  };
  return {
    kind: "lora_like",
    params,
    targets(hooks) {
      const chosen = hooks.filter(options.targets ?? (() => true));
      for (const h of chosen) {
        const a = `${h.name}.lora_A`;
        const b = `${h.name}.lora_B`;
        if (!params.has(a)) {
          params.set(a, tensor(a, [h.inFeatures, rank], 1 / Math.sqrt(h.inFeatures)));
        }
        if (!params.has(b)) params.set(b, tensor(b, [rank, h.outFeatures], options.bStd ?? 0));
      }
      return chosen.map((h) => h.name);
    },
    parameters: () => [...params.values()],
    emit(hook: LinearHook, input: string, ops: AdapterGraphOps): string {
      const a = ops.parameter(`${hook.name}.lora_A`, [hook.inFeatures, rank]);
      const b = ops.parameter(`${hook.name}.lora_B`, [rank, hook.outFeatures]);
      const [xa] = ops.op("MatMul", [input, a]);
      const [d] = ops.op("MatMul", [xa, b]);
      return scale === 1 ? d : ops.op("Mul", [d, ops.constant([scale], [])])[0];
    },
    save: () => Promise.resolve(),
  };
}
