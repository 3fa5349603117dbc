/**
 * The Adapter contract: trainable weight deltas attached at named linear hook points
 * (`layers.{i}.attn.{q,k,v,o}_proj`, `layers.{i}.mlp.{gate,up,down}_proj`, `lm_head`).
 *
 * An adapter owns its parameters, the graph fragment it adds at each hook, and the runtime inputs
 * that fragment reads (for example identity masks). The engine builds the base linear layer and
 * adds whatever {@link Adapter.emit} returns to its output.
 *
 * @module
 */

/** Element types adapters may declare. */
export type AdapterDType = "float32" | "int64" | "bool";

/** A tensor owned by an adapter (row-major). */
export interface AdapterTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** A linear hook point of a decoder. */
export interface LinearHook {
  /** Public hook name, e.g. `layers.3.attn.q_proj`. */
  name: string;
  /** Decoder block index, or -1 for `lm_head`. */
  layer: number;
  inFeatures: number;
  outFeatures: number;
}

/**
 * The graph operations an adapter may emit. The engine's graph builder provides them; values are
 * opaque names. Ops are named by ONNX `op_type` with ONNX attribute names.
 */
export interface AdapterGraphOps {
  /** Emits one ONNX node and returns its output value names. */
  op(
    opType: string,
    inputs: string[],
    attributes?: Record<string, unknown>,
    options?: { outputs?: number; domain?: string },
  ): string[];
  /** A float32 constant. */
  constant(data: Float32Array | number[], shape: number[]): string;
  /** An int64 constant. */
  constantInt(data: number[], shape: number[]): string;
  /** An adapter parameter, fed at run time (trainable when the trainer asks for it). */
  parameter(name: string, shape: number[]): string;
  /** A runtime input such as an identity mask; dims may be symbolic (`"batch"`). */
  runtimeInput(name: string, dtype: AdapterDType, shape: (number | string)[]): string;
}

/** Per-request state an adapter turns into runtime input tensors. */
export interface AdapterRuntimeRequest {
  batchSize: number;
  /**
   * The request extensions asked for (see core/contracts/request_extension.ts), by name: one
   * value per batch row, `undefined` for a row that has none (hirpf reads `identities`, a
   * `string[]` per row). Only names some adapter lists in {@link Adapter.requestExtensions} get
   * here; the engine refuses the others.
   */
  extensions?: Readonly<Record<string, readonly unknown[]>>;
}

/** A runtime tensor fed to the graph. */
export interface RuntimeTensor {
  dtype: AdapterDType;
  shape: number[];
  data: Float32Array | BigInt64Array | Uint8Array;
}

/**
 * Trainable weight deltas at linear hook points.
 *
 * @example
 * ```ts
 * import type { Adapter } from "./adapter.ts";
 * declare const lora: Adapter;
 * console.log(lora.kind, lora.parameters().map((p) => p.name));
 * ```
 */
export interface Adapter {
  /** Adapter kind, e.g. `lora` or `hirpf`. */
  readonly kind: string;
  /** The hook names (among those offered) this adapter attaches to. */
  targets(hooks: LinearHook[]): string[];
  /** Parameters in a stable order. */
  parameters(): AdapterTensor[];
  /** Emits the delta added to the hook's output; `input` is the hook's input `[B, S, in]`. */
  emit(hook: LinearHook, input: string, ops: AdapterGraphOps): string;
  /**
   * The request extensions this adapter turns into runtime inputs (hirpf: `["identities"]`);
   * values arrive per batch row in {@link AdapterRuntimeRequest.extensions}.
   */
  readonly requestExtensions?: readonly string[];
  /** Runtime inputs for one run (names must match those declared with `runtimeInput`). */
  runtimeInputs?(request: AdapterRuntimeRequest): Record<string, RuntimeTensor>;
  /** Writes the adapter (weights + config) to a directory. */
  save(dir: string): Promise<void>;
}
