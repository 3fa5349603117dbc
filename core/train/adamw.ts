/**
 * AdamW (decoupled weight decay, Loshchilov & Hutter) over Float32Arrays, plus gradient clipping
 * by global norm. Plain TypeScript: for adapter-sized parameter sets the update costs far less
 * than the graph run that produced the gradients.
 *
 * @module
 */

import { withCode } from "../errors.ts";

/** AdamW hyper-parameters (the learning rate is passed per step). */
export interface AdamWOptions {
  /** Default [0.9, 0.999]. */
  betas?: [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay. Default 0. */
  weightDecay?: number;
}

/** A named parameter tensor. */
export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Serializable optimizer state: moments per parameter and the step count. */
export interface AdamWState {
  step: number;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

function bad(message: string): RangeError {
  return withCode(new RangeError(message), "E_CONFIG");
}

/**
 * AdamW as in PyTorch: `p ← p·(1 − lr·wd)`, then `p ← p − lr·m̂/(√v̂ + eps)`.
 *
 * @example
 * ```ts
 * import { AdamW } from "./adamw.ts";
 * const p = { name: "w", shape: [2], data: new Float32Array([1, -1]) };
 * const opt = new AdamW([p], { weightDecay: 0.01 });
 * opt.step(new Map([["w", new Float32Array([0.5, -0.5])]]), 1e-3);
 * console.log(p.data);
 * ```
 */
export class AdamW {
  #params: NamedTensor[];
  #b1: number;
  #b2: number;
  #eps: number;
  #wd: number;
  #state: AdamWState;

  constructor(params: NamedTensor[], options: AdamWOptions = {}) {
    const [b1, b2] = options.betas ?? [0.9, 0.999];
    if (!(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1)) {
      throw bad(`betas is [${b1}, ${b2}]; both must be in [0, 1), e.g. [0.9, 0.999]`);
    }
    const eps = options.eps ?? 1e-8;
    if (!(eps > 0)) throw bad(`eps is ${eps}; pass a small positive number such as 1e-8`);
    const wd = options.weightDecay ?? 0;
    if (!(wd >= 0)) throw bad(`weightDecay is ${wd}; pass a number >= 0`);
    this.#params = params;
    this.#b1 = b1;
    this.#b2 = b2;
    this.#eps = eps;
    this.#wd = wd;
    this.#state = {
      step: 0,
      m: new Map(params.map((p) => [p.name, new Float32Array(p.data.length)])),
      v: new Map(params.map((p) => [p.name, new Float32Array(p.data.length)])),
    };
  }

  /** Optimizer steps taken. */
  get stepCount(): number {
    return this.#state.step;
  }

  /** Applies one update in place. Every parameter needs a gradient of its length. */
  step(grads: Map<string, Float32Array>, lr: number): void {
    if (!(lr >= 0) || !Number.isFinite(lr)) {
      throw bad(`learning rate is ${lr}; pass a finite number >= 0`);
    }
    const s = this.#state;
    s.step++;
    const c1 = 1 - this.#b1 ** s.step;
    const c2 = 1 - this.#b2 ** s.step;
    const b1 = this.#b1, b2 = this.#b2, eps = this.#eps;
    const decay = 1 - lr * this.#wd;
    for (const p of this.#params) {
      const g = grads.get(p.name);
      if (!g || g.length !== p.data.length) {
        throw withCode(
          new RangeError(
            `gradient of "${p.name}" is ${
              g ? `${g.length} values` : "missing"
            }; it needs ${p.data.length}`,
          ),
          "E_GRAPH",
        );
      }
      const m = s.m.get(p.name)!;
      const v = s.v.get(p.name)!;
      const w = p.data;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i];
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        w[i] = w[i] * decay - lr * (m[i] / c1) / (Math.sqrt(v[i] / c2) + eps);
      }
    }
  }

  /** The state (shared arrays; copy before mutating). */
  state(): AdamWState {
    return this.#state;
  }

  /** Restores a state saved by {@link AdamW.state}. */
  load(state: AdamWState): void {
    for (const p of this.#params) {
      const m = state.m.get(p.name);
      const v = state.v.get(p.name);
      if (!m || !v || m.length !== p.data.length || v.length !== p.data.length) {
        throw withCode(
          new RangeError(
            `optimizer state lacks moments of "${p.name}" (${p.data.length} values); the checkpoint belongs to another adapter`,
          ),
          "E_CONFIG",
        );
      }
    }
    this.#state = {
      step: state.step,
      m: new Map([...state.m].map(([k, a]) => [k, Float32Array.from(a)])),
      v: new Map([...state.v].map(([k, a]) => [k, Float32Array.from(a)])),
    };
  }
}

/**
 * Scales gradients in place so their global L2 norm is at most `maxNorm`; returns the norm before
 * clipping. `maxNorm` of 0 or Infinity disables clipping (the norm is still returned).
 *
 * @example
 * ```ts
 * import { clipGradNorm } from "./adamw.ts";
 * const g = new Map([["w", new Float32Array([3, 4])]]);
 * console.log(clipGradNorm(g, 1), g.get("w")); // 5, [0.6, 0.8]
 * ```
 */
export function clipGradNorm(grads: Map<string, Float32Array>, maxNorm: number): number {
  let sq = 0;
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
  const norm = Math.sqrt(sq);
  if (maxNorm > 0 && Number.isFinite(maxNorm) && norm > maxNorm) {
    const s = maxNorm / (norm + 1e-6);
    for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] *= s;
  }
  return norm;
}
