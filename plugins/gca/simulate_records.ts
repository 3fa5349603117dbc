/**
 * Simulating a whole test set: every record, `runs` times, into one simulation file (CoSER's
 * `exp/simulation/*.json` records plus run metadata).
 *
 * @module
 */

import type { z } from "zod";
import type { ChatModel } from "../../core/contracts/chat_model.ts";
import type { Simulator } from "../../core/contracts/simulator.ts";
import { type Book, parseTestRecord } from "./schemas.ts";
import { withCode } from "../../core/errors.ts";
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
  /** One book for every record (`--book`). */
  book?: Book;
  /** Each record's own book by title (`--books <dir>`); wins over `book`. */
  books?: ReadonlyMap<string, Book>;
  /** Simulations finished by an earlier, interrupted run: kept, not run again. */
  done?: readonly SimulationRecord[];
  /** Called with the file so far after each finished simulation (incremental writes). */
  onProgress?: (file: SimulationFile) => Promise<void> | void;
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
  const models: Record<string, string> = {};
  for (const [role, model] of Object.entries(options.models)) models[role] = model.id;
  const done = new Map<string, SimulationRecord>();
  for (const d of options.done ?? []) done.set(simulationKey(d.book_title, d.i_p, d.i_c, d.nth), d);
  if (done.size > 0) log(`resuming: ${done.size} of ${total} simulation(s) already written`);
  for (let r = 0; r < records.length; r++) {
    const rec = records[r] as { book?: string; i_p?: number; i_c?: number };
    for (let k = 0; k < runs; k++) {
      const nth = baseNth + k;
      const previous = done.get(simulationKey(rec.book, rec.i_p, rec.i_c, nth));
      if (previous) {
        simulations.push(previous);
        resolved = (previous.options as Record<string, unknown>) ?? resolved;
        continue;
      }
      const book = (rec.book !== undefined ? options.books?.get(rec.book) : undefined) ??
        options.book;
      const t = await options.simulator.simulate({
        record: records[r],
        options: { ...options.options, nth },
        book,
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
      await options.onProgress?.({
        format: "gca-simulations/1",
        seed,
        runs,
        options: resolved,
        models,
        simulations,
      });
    }
  }
  return { format: "gca-simulations/1", seed, runs, options: resolved, models, simulations };
}

/** The resume key of one simulation: book, plot, conversation and repeat index. */
export function simulationKey(book: unknown, i_p: unknown, i_c: unknown, nth: unknown): string {
  return JSON.stringify([book, i_p, i_c, nth ?? 0]);
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
export function simulationsOf(file: unknown, path = "the simulations file"): SimulationRecord[] {
  const list = Array.isArray(file)
    ? file
    : (file && typeof file === "object" && Array.isArray((file as SimulationFile).simulations))
    ? (file as SimulationFile).simulations
    : null;
  if (!list) {
    throw withCode(
      new TypeError(
        `${path}:1: neither an array of simulation records nor an object with ` +
          "'simulations'; pass a file written by 'gca simulate' or CoSER's exp/simulation output",
      ),
      "E_DATA",
    );
  }
  return list.map((s: Record<string, unknown>, i: number) => {
    if (!s || typeof s !== "object" || !Array.isArray(s.simulation) || !s.circumstance) {
      throw withCode(
        new TypeError(
          `${path}: record ${i}: lacks 'simulation' (a list) or 'circumstance' (the test record)`,
        ),
        "E_DATA",
      );
    }
    return {
      ...s,
      id: typeof s.id === "string" ? s.id : `${s.book_title}-${s.i_p}-${s.i_c}`,
      nth: typeof s.nth === "number" ? s.nth : 0,
    } as SimulationRecord;
  });
}

/**
 * Checks every simulation's `circumstance` (its test record) before any judge call, so a bad
 * case is an `E_DATA` error naming file, record index and field instead of a failure after
 * earlier cases were judged. Null chapters (CoSER's released quirk) are accepted.
 *
 * @example
 * ```ts ignore
 * import { simulationsOf, validateSimulations } from "./simulate_records.ts";
 * const sims = validateSimulations(simulationsOf(json, "sims.json"), "sims.json");
 * ```
 */
export function validateSimulations(
  simulations: SimulationRecord[],
  path: string,
): SimulationRecord[] {
  simulations.forEach((s, i) =>
    parseTestRecord(s.circumstance, `${path}: record ${i}: circumstance`)
  );
  return simulations;
}
