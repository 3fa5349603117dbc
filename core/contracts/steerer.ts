/**
 * The Steerer contract: activation edits at residual hook points.
 *
 * Layer convention (used wherever a steering layer number is accepted): `layer` is the Hugging Face
 * `hidden_states` index L in 1..numLayers. The edit applies to the residual stream after decoder
 * block L-1 (0-based), i.e. hook point `layers.{L-1}.out`. For L < numLayers that is exactly the
 * state `hidden_states[L]` a persona vector row `v[L]` was measured from. At the last layer
 * (L = numLayers) it is not: Hugging Face applies the final RMSNorm to `hidden_states[numLayers]`,
 * while the edit lands on the residual stream before that norm (as upstream's steering hook does),
 * so a row measured after the norm is added before it, where the norm then rescales it. Layer 0
 * (the embeddings) is rejected.
 *
 * @module
 */

/** Which positions an edit touches during generation with a KV cache. */
export type SteeringPositions = "all" | "prompt" | "response";

/**
 * One steering entry as personas, requests and experiments write it.
 * `vector` is a path to a safetensors persona vector `[L+1, d]`, or a registered vector name.
 */
export interface SteeringEntry {
  vector: string;
  coefficient: number;
  /** Hugging Face hidden-state index, 1..numLayers (see module doc). */
  layer: number;
  /** Default `response`. */
  positions?: SteeringPositions;
  /** `add`: h += c·v. `ablate`: h -= (h·u)u with u = v/|v| (coefficient ignored). Default `add`. */
  type?: "add" | "ablate";
}

/**
 * A steering entry that names a loaded plugin's Steerer: `steerer` is `<plugin>` (its only or
 * first steerer) or `<plugin>.<name>`; `config` goes to the steerer's factory.
 */
export interface SteererEntry {
  steerer: string;
  config?: Record<string, unknown>;
}

/** Either kind of steering entry (requests, personas, experiments). */
export type SteeringItem = SteeringEntry | SteererEntry;

/** Whether an entry names a plugin steerer rather than a vector. */
export function isSteererEntry(item: SteeringItem): item is SteererEntry {
  return typeof (item as SteererEntry).steerer === "string";
}

/** A resolved residual edit, ready for the engine. */
export interface ResidualEdit {
  /** Block index i (0-based): the edit applies at hook point `layers.{i}.out`. */
  block: number;
  type: "add" | "ablate";
  /** The direction, length = hidden size. */
  vector: Float32Array;
  /** Multiplier for `add`; ignored for `ablate`. */
  coefficient: number;
  positions: SteeringPositions;
}

/** What a steerer may inspect when it resolves its edits. */
export interface SteeringContext {
  numLayers: number;
  hiddenSize: number;
  /** Reads a vector file or registered name into a `[L+1, d]` row-major array. */
  loadVector(ref: string): Promise<{ data: Float32Array; rows: number; cols: number }>;
}

/**
 * A composable source of residual edits, usable at inference and during training.
 *
 * @example
 * ```ts
 * import type { Steerer } from "./steerer.ts";
 * const nudge: Steerer = {
 *   name: "nudge",
 *   resolve: (ctx) => [{ block: 0, type: "add", vector: new Float32Array(ctx.hiddenSize).fill(0.1),
 *     coefficient: 1, positions: "all" }],
 * };
 * ```
 */
export interface Steerer {
  readonly name: string;
  resolve(context: SteeringContext): ResidualEdit[] | Promise<ResidualEdit[]>;
}
