/**
 * The LoRA adapter (Hu et al. 2021): at each targeted linear hook the output gains
 * `scaling · (x Aᵀ) Bᵀ`, with A `[r, in]` and B `[out, r]` in PEFT's layout and
 * `scaling = alpha / r` (or `alpha / √r` with rsLoRA).
 *
 * @module
 */

import type {
  Adapter,
  AdapterGraphOps,
  AdapterRuntimeRequest,
  AdapterTensor,
  LinearHook,
  RuntimeTensor,
} from "../../core/contracts/adapter.ts";
import { withCode } from "../../core/errors.ts";
import type { DecoderConfig } from "../../core/model/config.ts";
import { decoderHooks } from "../../core/model/decoder_graph.ts";
import { Prng } from "../../core/util/prng.ts";
import {
  type LoraAdapterOptions,
  loraScaling,
  type ResolvedLoraOptions,
  resolveLoraOptions,
} from "./options.ts";
import { saveLora } from "./save_lora.ts";
import { selectTargets } from "./target_modules.ts";

/** One adapted linear layer. `A` and `B` are the live parameter arrays. */
export interface LoraModule {
  hook: LinearHook;
  r: number;
  alpha: number;
  /** alpha / r, or alpha / √r with rsLoRA. */
  scaling: number;
  /** `[r, in]`, row-major. */
  A: Float32Array;
  /** `[out, r]`, row-major. */
  B: Float32Array;
}

/** Weights of one module handed to {@link LoraAdapter.fromModules}. */
export interface LoraModuleWeights {
  /** Hook point name, e.g. `layers.0.attn.q_proj`. */
  hook: string;
  /** `[r, in]` row-major; r is inferred from its length. */
  A: Float32Array;
  /** `[out, r]` row-major. */
  B: Float32Array;
  /** Per-module alpha (PEFT `alpha_pattern`); default the adapter's alpha. */
  alpha?: number;
}

/** {@link AdapterRuntimeRequest} plus what dropout masks need during training. */
export interface LoraRuntimeRequest extends AdapterRuntimeRequest {
  /** Sequence length of the batch; required while {@link LoraAdapter.training} with dropout. */
  sequenceLength?: number;
  /** Seed of this step's masks; default: the adapter's own generator advances per call. */
  seed?: number;
}

// Set while fromModules() builds an adapter whose weights it is about to replace.
let skipInit = false;

function weightsError(message: string): RangeError {
  return withCode(new RangeError(message), "E_WEIGHTS");
}

/**
 * A LoRA adapter over the linear hooks of one model.
 *
 * Initialisation follows PEFT: A is Kaiming-uniform with a = √5, i.e. U(−1/√in, 1/√in) drawn
 * from a seeded {@link Prng}; B is zero, so a fresh adapter leaves the model unchanged.
 *
 * Graph parameters are named `{name}.{hook}.lora_A` / `.lora_B` (`lora.layers.0.attn.q_proj.lora_A`)
 * and {@link parameters} returns the live arrays under those names, so a trainer feeds them,
 * asks for their gradients and updates them in place (or through {@link setParameter}).
 *
 * Dropout: PEFT applies dropout to the LoRA input only. The inference graph has none. When
 * {@link training} is true at graph-building time and `dropout > 0`, each adapted hook multiplies
 * its input by a runtime input `{name}.{hook}.dropout_mask` `[batch_size, sequence_length, in]`
 * (0 or 1/(1−p), inverted dropout), which {@link runtimeInputs} fills from a seeded generator. A
 * runtime mask rather than an ONNX `Dropout` node keeps the graph to differentiable standard ops
 * with the gradient rules the autodiff has, and makes every training step reproducible.
 *
 * @example
 * ```ts
 * import { LoraAdapter } from "./lora_adapter.ts";
 * import { buildDecoderGraph } from "../../core/model/decoder_graph.ts";
 * import type { DecoderConfig } from "../../core/model/config.ts";
 * declare const config: DecoderConfig;
 * declare const weights: Map<string, { shape: number[]; data: Float32Array }>;
 * const lora = LoraAdapter.forConfig(config, { r: 16, alpha: 32, targetModules: "all-linear" });
 * const { model } = buildDecoderGraph(config, weights, { adapters: [lora] });
 * // feed lora.parameters() by name on every run
 * ```
 */
export class LoraAdapter implements Adapter {
  readonly kind = "lora";
  /**
   * Training mode: read when the graph is emitted (dropout masks are added only then) and by
   * {@link runtimeInputs}. The trainer sets it before building its training graph.
   */
  training = false;
  #options: ResolvedLoraOptions;
  #hooks: LinearHook[];
  #modules = new Map<string, LoraModule>();
  #dropoutRng: Prng;

  /**
   * A fresh adapter over `hooks` (the model's linear hooks, e.g. `decoderHooks(config)`).
   */
  constructor(hooks: readonly LinearHook[], options: LoraAdapterOptions = {}) {
    this.#options = resolveLoraOptions(options);
    this.#hooks = hooks.map((h) => ({ ...h }));
    this.#dropoutRng = new Prng(this.#options.seed + 0x5eed);
    const names = new Set(
      selectTargets(this.#options.targetModules, this.#hooks, { layers: this.#options.layers }),
    );
    const { r, alpha, useRslora, seed } = this.#options;
    const rng = new Prng(seed);
    for (const hook of this.#hooks) {
      if (!names.has(hook.name) || skipInit) continue;
      // kaiming_uniform_(a=√5): gain √(2/(1+5)), bound gain·√(3/fan_in) = 1/√fan_in.
      const bound = 1 / Math.sqrt(hook.inFeatures);
      const A = new Float32Array(r * hook.inFeatures);
      for (let i = 0; i < A.length; i++) A[i] = (2 * rng.next() - 1) * bound;
      this.#modules.set(hook.name, {
        hook,
        r,
        alpha,
        scaling: loraScaling(alpha, r, useRslora),
        A,
        B: new Float32Array(hook.outFeatures * r),
      });
    }
  }

  /**
   * A fresh adapter for a decoder config (hooks from `decoderHooks`).
   *
   * @example
   * ```ts
   * import { LoraAdapter } from "./lora_adapter.ts";
   * import type { DecoderConfig } from "../../core/model/config.ts";
   * declare const config: DecoderConfig;
   * const lora = LoraAdapter.forConfig(config, { targetModules: ["q_proj", "v_proj"] });
   * ```
   */
  static forConfig(config: DecoderConfig, options: LoraAdapterOptions = {}): LoraAdapter {
    return new LoraAdapter(decoderHooks(config), options);
  }

  /**
   * An adapter with given weights (a loaded checkpoint). Each module's rank comes from its A;
   * shapes are checked against the hooks. `options.targetModules` is ignored: the modules given
   * are the targets.
   *
   * @example
   * ```ts
   * import { LoraAdapter } from "./lora_adapter.ts";
   * const hooks = [{ name: "layers.0.attn.q_proj", layer: 0, inFeatures: 4, outFeatures: 4 }];
   * const lora = LoraAdapter.fromModules(hooks, { r: 2, alpha: 4 }, [
   *   { hook: "layers.0.attn.q_proj", A: new Float32Array(8), B: new Float32Array(8) },
   * ]);
   * console.log(lora.parameters().length); // 2
   * ```
   */
  static fromModules(
    hooks: readonly LinearHook[],
    options: LoraAdapterOptions,
    modules: readonly LoraModuleWeights[],
  ): LoraAdapter {
    if (modules.length === 0) {
      throw weightsError("no LoRA modules were given; an adapter needs at least one");
    }
    let adapter: LoraAdapter;
    skipInit = true;
    try {
      adapter = new LoraAdapter(hooks, {
        ...options,
        targetModules: modules.map((m) => m.hook),
        layers: undefined,
      });
    } finally {
      skipInit = false;
    }
    const o = adapter.#options;
    const byName = new Map(adapter.#hooks.map((h) => [h.name, h]));
    for (const m of modules) {
      if (adapter.#modules.has(m.hook)) {
        throw weightsError(`LoRA module ${m.hook} is given twice; pass each module once`);
      }
      const hook = byName.get(m.hook)!;
      const r = m.A.length / hook.inFeatures;
      if (!Number.isInteger(r) || r < 1 || m.B.length !== hook.outFeatures * r) {
        throw weightsError(
          `LoRA module ${m.hook}: A has ${m.A.length} values and B ${m.B.length}; with in = ` +
            `${hook.inFeatures} and out = ${hook.outFeatures} they need r·${hook.inFeatures} ` +
            `and ${hook.outFeatures}·r values for one rank r`,
        );
      }
      const alpha = m.alpha ?? o.alpha;
      adapter.#modules.set(m.hook, {
        hook,
        r,
        alpha,
        scaling: loraScaling(alpha, r, o.useRslora),
        A: m.A,
        B: m.B,
      });
    }
    // Keep hook order whatever the order of `modules`: parameters() promises a stable order.
    const ordered = adapter.#hooks.filter((h) => adapter.#modules.has(h.name));
    adapter.#modules = new Map(ordered.map((h) => [h.name, adapter.#modules.get(h.name)!]));
    return adapter;
  }

  /** The resolved options (a copy). */
  get options(): ResolvedLoraOptions {
    return { ...this.#options, layers: this.#options.layers?.slice() };
  }

  /** The hooks of the model this adapter was made for (copies). */
  get hooks(): LinearHook[] {
    return this.#hooks.map((h) => ({ ...h }));
  }

  /** The adapted modules in hook order; `A` and `B` are the live arrays. */
  modules(): LoraModule[] {
    return [...this.#modules.values()].map((m) => ({ ...m, hook: { ...m.hook } }));
  }

  /**
   * The graph parameter name of a module's matrix.
   *
   * @example
   * ```ts
   * import { LoraAdapter } from "./lora_adapter.ts";
   * declare const lora: LoraAdapter;
   * lora.parameterName("layers.0.attn.q_proj", "A"); // "lora.layers.0.attn.q_proj.lora_A"
   * ```
   */
  parameterName(hook: string, which: "A" | "B"): string {
    return `${this.#options.name}.${hook}.lora_${which}`;
  }

  /** The runtime input name of a module's dropout mask (training graphs only). */
  dropoutMaskName(hook: string): string {
    return `${this.#options.name}.${hook}.dropout_mask`;
  }

  #module(hook: LinearHook): LoraModule {
    const m = this.#modules.get(hook.name);
    if (!m) {
      throw weightsError(
        `LoRA adapter "${this.#options.name}" has no module at ${hook.name}; it adapts ${
          [...this.#modules.keys()].join(", ")
        }`,
      );
    }
    if (m.hook.inFeatures !== hook.inFeatures || m.hook.outFeatures !== hook.outFeatures) {
      throw weightsError(
        `LoRA module ${hook.name} was made for [out ${m.hook.outFeatures}, in ${m.hook.inFeatures}] ` +
          `but the model's layer is [out ${hook.outFeatures}, in ${hook.inFeatures}]; create or ` +
          `load the adapter for this model's config`,
      );
    }
    return m;
  }

  /** The adapted hooks among those offered; a module the model lacks is an error. */
  targets(hooks: LinearHook[]): string[] {
    const offered = new Map(hooks.map((h) => [h.name, h]));
    for (const name of this.#modules.keys()) {
      const h = offered.get(name);
      if (!h) {
        throw weightsError(
          `LoRA module ${name} has no matching layer in this model (layers offered: ${
            hooks[0]?.name
          } … ${hooks.at(-1)?.name}); load the adapter with the model it was trained for`,
        );
      }
      this.#module(h);
    }
    return hooks.filter((h) => this.#modules.has(h.name)).map((h) => h.name);
  }

  /** `lora_A`, `lora_B` per module in hook order; the data are the live arrays. */
  parameters(): AdapterTensor[] {
    const out: AdapterTensor[] = [];
    for (const m of this.#modules.values()) {
      const name = m.hook.name;
      out.push(
        { name: this.parameterName(name, "A"), shape: [m.r, m.hook.inFeatures], data: m.A },
        { name: this.parameterName(name, "B"), shape: [m.hook.outFeatures, m.r], data: m.B },
      );
    }
    return out;
  }

  /**
   * Replaces a parameter's values (copied into the live array).
   *
   * @example
   * ```ts
   * import { LoraAdapter } from "./lora_adapter.ts";
   * declare const lora: LoraAdapter;
   * const p = lora.parameters()[1];
   * lora.setParameter(p.name, new Float32Array(p.data.length).fill(0.01));
   * ```
   */
  setParameter(name: string, data: ArrayLike<number>): void {
    const p = this.parameters().find((t) => t.name === name);
    if (!p) {
      throw withCode(
        new RangeError(
          `"${name}" is not a parameter of LoRA adapter "${this.#options.name}"; names look like ` +
            `${this.parameters()[0]?.name}`,
        ),
        "E_WEIGHTS",
      );
    }
    if (data.length !== p.data.length) {
      throw withCode(
        new RangeError(
          `parameter "${name}" has shape [${p.shape}] (${p.data.length} values); got ${data.length}`,
        ),
        "E_WEIGHTS",
      );
    }
    p.data.set(data);
  }

  /** Emits `scaling · (dropout(x) Aᵀ) Bᵀ`. */
  emit(hook: LinearHook, input: string, ops: AdapterGraphOps): string {
    const m = this.#module(hook);
    const { inFeatures: fin, outFeatures: fout } = hook;
    let x = input;
    if (this.training && this.#options.dropout > 0) {
      const mask = ops.runtimeInput(this.dropoutMaskName(hook.name), "float32", [
        "batch_size",
        "sequence_length",
        fin,
      ]);
      [x] = ops.op("Mul", [x, mask]);
    }
    const A = ops.parameter(this.parameterName(hook.name, "A"), [m.r, fin]);
    const B = ops.parameter(this.parameterName(hook.name, "B"), [fout, m.r]);
    const [At] = ops.op("Transpose", [A], { perm: [1, 0] });
    const [Bt] = ops.op("Transpose", [B], { perm: [1, 0] });
    const [xa] = ops.op("MatMul", [x, At]);
    // Scaling on the rank-r activations: r multiplies per token instead of `out`.
    const [xs] = ops.op("Mul", [xa, ops.constant([m.scaling], [])]);
    const [y] = ops.op("MatMul", [xs, Bt]);
    return y;
  }

  /**
   * Dropout masks for one training step: `{name}.{hook}.dropout_mask` `[batch, seq, in]` with
   * entries 0 (probability p) or 1/(1−p). Empty outside training or with dropout 0. Float32; a
   * float64 training graph needs them converted by the caller.
   *
   * @example
   * ```ts
   * import { LoraAdapter } from "./lora_adapter.ts";
   * declare const lora: LoraAdapter;
   * lora.training = true;
   * const feeds = lora.runtimeInputs({ batchSize: 2, sequenceLength: 16, seed: 7 });
   * ```
   */
  runtimeInputs(request: LoraRuntimeRequest): Record<string, RuntimeTensor> {
    const p = this.#options.dropout;
    if (!this.training || p === 0) return {};
    const { batchSize, sequenceLength } = request;
    if (!Number.isInteger(sequenceLength) || sequenceLength! < 1) {
      throw withCode(
        new TypeError(
          `LoRA dropout masks need sequenceLength (got ${sequenceLength}); pass the batch's ` +
            `sequence length in the runtime request, or set training = false for inference`,
        ),
        "E_CONFIG",
      );
    }
    const rng = request.seed === undefined ? this.#dropoutRng : new Prng(request.seed);
    const keep = 1 / (1 - p);
    const out: Record<string, RuntimeTensor> = {};
    for (const m of this.#modules.values()) {
      const shape = [batchSize, sequenceLength!, m.hook.inFeatures];
      const data = new Float32Array(batchSize * sequenceLength! * m.hook.inFeatures);
      for (let i = 0; i < data.length; i++) data[i] = rng.next() < p ? 0 : keep;
      out[this.dropoutMaskName(m.hook.name)] = { dtype: "float32", shape, data };
    }
    return out;
  }

  /** Writes the adapter in PEFT layout (see {@link saveLora}). */
  save(dir: string): Promise<void> {
    return saveLora(dir, this);
  }
}
