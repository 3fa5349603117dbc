/**
 * The Simulator contract: drives one or more ChatModels through a protocol and returns a
 * transcript of typed turns.
 *
 * @module
 */

import type { ChatModel } from "./chat_model.ts";

/** One turn of a transcript. */
export interface Turn {
  speaker: string;
  text: string;
  thought?: string;
  action?: string;
  metadata?: Record<string, unknown>;
}

/** A finished simulation. */
export interface Transcript {
  id: string;
  turns: Turn[];
  metadata: Record<string, unknown>;
}

/** A trace event emitted while simulating (for progress and debugging). */
export interface SimulationEvent {
  name: string;
  data: Record<string, unknown>;
}

/** What a simulation run receives: the models by role name, a seed and a cancel signal. */
export interface SimulationContext {
  models: Record<string, ChatModel>;
  seed?: number;
  signal?: AbortSignal;
  onEvent?(event: SimulationEvent): void;
}

/**
 * Drives ChatModels through a protocol.
 *
 * @example
 * ```ts
 * import type { Simulator } from "./simulator.ts";
 * declare const sim: Simulator<{ goal: string }>;
 * declare const models: Record<string, import("./chat_model.ts").ChatModel>;
 * const t = await sim.simulate({ goal: "book a table" }, { models, seed: 1 });
 * console.log(t.turns.length);
 * ```
 */
export interface Simulator<Input = unknown> {
  readonly name: string;
  /** Role names this simulator expects in `context.models`. */
  readonly roles: readonly string[];
  simulate(input: Input, context: SimulationContext): Promise<Transcript>;
}
