/**
 * Simulating a whole test set: every record, `runs` times, into one simulation file (CoSER's
 * `exp/simulation/*.json` records plus run metadata).
 *
 * @module
 */

import type { z } from "zod";
import type { ChatModel } from "../../core/contracts/chat_model.ts";
import type { Simulator } from "../../core/contracts/simulator.ts";
import type { Book } from "./schemas.ts";
import type { GcaSimulationInput, GcaSimulationOptionsSchema } from "./simulator.ts";

/** One simulated scene: CoSER's simulation record plus `id`, `nth` and the run details. */
export interface SimulationRecord {
  id: string;
  nth: number;
  book_title: string;
  i_p: number;
  i_c: number;
  circumstance: unknown;
  simulation: { role: string; content: string }[];
  involved_character_profiles: Record<string, string>;
  [key: string]: unknown;
}

/** A simulation file as the `simulate` command writes it. */
export interface SimulationFile {
  format: "gca-simulations/1";
  seed: number;
  runs: number;
  options: Record<string, unknown>;
  /** Role → model id (`actor`, `actor:<Name>`, `environment`, `nsp`). */
  models: Record<string, string>;
  simulations: SimulationRecord[];
}

/** Options of {@link simulateRecords}. */
export interface SimulateRecordsOptions {
  simulator: Simulator<GcaSimulationInput>;
  models: Record<string, ChatModel>;
  options?: z.input<typeof GcaSimulationOptionsSchema>;
  /** Repeated runs per record (nth = 0..runs-1; default 1). */
  runs?: number;
  seed?: number;
  book?: Book;
  signal?: AbortSignal;
  log?: (message: string) => void;
}

/**
 * Simulates every record `runs` times, in order, and returns the simulation file.
 *
 * @example
 * ```ts ignore
 * import { createGcaSimulator } from "./simulator.ts";
 * import { simulateRecords } from "./simulate_records.ts";
 * declare const models: Record<string, import("../../core/contracts/chat_model.ts").ChatModel>;
 * const records = JSON.parse(await Deno.readTextFile("plugins/gca/data/test_records.json"));
 * const file = await simulateRecords(records, { simulator: createGcaSimulator(), models, runs: 1 });
 * console.log(file.simulations.length);
 * ```
 */
export async function simulateRecords(
  records: readonly unknown[],
  options: SimulateRecordsOptions,
): Promise<SimulationFile> {
  const runs = options.runs ?? 1;
  const seed = options.seed ?? 42;
  const log = options.log ?? (() => {});
  const baseNth = options.options?.nth ?? 0;
  const simulations: SimulationRecord[] = [];
  let resolved: Record<string, unknown> = {};
  const total = records.length * runs;
  for (let r = 0; r < records.length; r++) {
    for (let k = 0; k < runs; k++) {
      const nth = baseNth + k;
      const t = await options.simulator.simulate({
        record: records[r],
        options: { ...options.options, nth },
        book: options.book,
      }, { models: options.models, seed, signal: options.signal });
      const m = t.metadata as Record<string, unknown>;
      resolved = m.options as Record<string, unknown>;
      const n = simulations.length + 1;
      const utterances = (m.simulation as unknown[]).length;
      log(
        `[${n}/${total}] ${t.id}: ${utterances} log entries, ended by ${m.endedBy}, ` +
          `${m.fallbacks} fallback(s), ${m.failedCalls} failed call(s)`,
      );
      simulations.push({ id: t.id, nth, ...m } as SimulationRecord);
    }
  }
  const models: Record<string, string> = {};
  for (const [role, model] of Object.entries(options.models)) models[role] = model.id;
  return { format: "gca-simulations/1", seed, runs, options: resolved, models, simulations };
}

/**
 * Reads the simulations out of a simulation file, or a bare array of CoSER simulation records
 * (the paper's `exp/simulation/*.json`).
 *
 * @example
 * ```ts
 * import { simulationsOf } from "./simulate_records.ts";
 * simulationsOf([{ book_title: "B", i_p: 1, i_c: 0, circumstance: {}, simulation: [],
 *   involved_character_profiles: {} }])[0].id; // "B-1-0"
 * ```
 */
export function simulationsOf(file: unknown): SimulationRecord[] {
  const list = Array.isArray(file)
    ? file
    : (file && typeof file === "object" && Array.isArray((file as SimulationFile).simulations))
    ? (file as SimulationFile).simulations
    : null;
  if (!list) {
    throw new TypeError(
      "the simulations file is neither an array of simulation records nor an object with " +
        "'simulations'; pass a file written by 'gca simulate' or CoSER's exp/simulation output",
    );
  }
  return list.map((s: Record<string, unknown>, i: number) => {
    if (!s || typeof s !== "object" || !Array.isArray(s.simulation) || !s.circumstance) {
      throw new TypeError(
        `simulation ${i} lacks 'simulation' (a list) or 'circumstance' (the test record)`,
      );
    }
    return {
      ...s,
      id: typeof s.id === "string" ? s.id : `${s.book_title}-${s.i_p}-${s.i_c}`,
      nth: typeof s.nth === "number" ? s.nth : 0,
    } as SimulationRecord;
  });
}
