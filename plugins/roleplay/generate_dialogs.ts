/**
 * A dialogue-generation run: every (goal × persona) pair through the roleplay simulator, written
 * as JSONL records in the reference layout `<out>/dialogs/<inquirer>/<run id>/<seed>.jsonl`, with
 * the per-turn trace events in `trace.jsonl` and the run-level counters in `metrics.json` beside
 * it. Runs resume: a pair whose record is already in the file is skipped, so together with a
 * cached model a rerun makes no model calls.
 *
 * @module
 */

import { join } from "node:path";
import { canonicalJson, sha256Hex } from "../../core/chat/canonical_json.ts";
import type { ChatModel } from "../../core/contracts/chat_model.ts";
import type { SimulationEvent } from "../../core/contracts/simulator.ts";
import { withCode } from "../../core/errors.ts";
import { writeFileAtomic, writeJsonAtomic } from "../../core/util/atomic.ts";
import { addCounters, COUNTER_NAMES, newCounters, type RoleplayCounters } from "./counters.ts";
import type { Goal } from "./goals.ts";
import { type RoleplayOptions, roleplayOptionsSchema, simulatorOptionsFrom } from "./options.ts";
import type { RoleplayPersona } from "./persona.ts";
import { type DialogRecord, formatDialogRecord, readDialogRecords } from "./record.ts";
import {
  type RoleplayEndReason,
  roleplaySimulator,
  type RoleplaySimulatorOptions,
} from "./simulator.ts";

/** Options of {@link generateDialogs}. */
export interface GenerateDialogsOptions {
  /** The simulated user and the chatbot under test (wrap them in a CachedChatModel to resume free). */
  inquirer: ChatModel;
  responder: ChatModel;
  /** Folder-safe inquirer name for the output layout (default: derived from `inquirer.id`). */
  inquirerName?: string;
  /** Names written into each record (default: the models' ids). */
  inquirerLabel?: string;
  responderLabel?: string;
  goals: readonly Goal[];
  personas: readonly RoleplayPersona[];
  /** Parsed or raw plugin options (`numTurns`, limits, …); `seed` is the run seed. */
  options?: Partial<RoleplayOptions>;
  /** Code-only simulator settings (templates, token counter) merged over `options`. */
  simulator?: RoleplaySimulatorOptions;
  /** The output root (`--out`). */
  out: string;
  /** Run folder name (default: a hash of models, goals, personas, options and seed). */
  runId?: string;
  /** Dialogues run at the same time (default 1). */
  concurrency?: number;
  signal?: AbortSignal;
  /** Called after each dialogue (written or skipped). */
  onProgress?(progress: GenerateProgress): void;
}

/** One progress report. */
export interface GenerateProgress {
  done: number;
  total: number;
  id: string;
  skipped: boolean;
  end_reason?: string;
  num_turns?: number;
}

/** The run-level metrics written to `metrics.json`. */
export interface RoleplayRunMetrics {
  run_id: string;
  inquirer: string;
  responder: string;
  seed: number;
  /** Planned dialogues (goals × personas) and records in the file. */
  planned: number;
  dialogues: number;
  turns_total: number;
  mean_turns: number;
  /** Dialogues per end reason. */
  end_reasons: Record<string, number>;
  /** The reference counters, summed over the file's records. */
  counters: RoleplayCounters;
  /** Persona hash → persona sentence. */
  personas: Record<string, string>;
  /** The options the run used. */
  cfg: RoleplayOptions;
}

/** What {@link generateDialogs} returns. */
export interface GenerateDialogsResult {
  runId: string;
  runDir: string;
  /** The JSONL records, `metrics.json` and `trace.jsonl`. */
  dialogsPath: string;
  metricsPath: string;
  tracePath: string;
  /** Dialogues run now, and skipped because their record already existed. */
  written: number;
  skipped: number;
  metrics: RoleplayRunMetrics;
}

/** A planned dialogue. */
interface Slot {
  id: string;
  goal: Goal;
  persona: RoleplayPersona;
  seed: number;
}

/**
 * The seed of one dialogue: FNV-1a of the run seed and the dialogue id, so every (goal × persona
 * slot) samples differently — the fixed personas repeat feature sets, and equal requests would
 * otherwise get equal (cached) answers.
 *
 * @example
 * ```ts
 * import { dialogSeed } from "./generate_dialogs.ts";
 * console.log(dialogSeed(5, "pace_energy_1/p0") !== dialogSeed(5, "pace_energy_1/p1")); // true
 * ```
 */
export function dialogSeed(seed: number, id: string): number {
  let h = 0x811c9dc5;
  for (const ch of `${seed}\u0000${id}`) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The dialogue plan: each goal with each persona slot, ids `<goal id>/p<slot>`.
 *
 * @example
 * ```ts
 * import { planDialogs } from "./generate_dialogs.ts";
 * import { fixedPersonas } from "./persona.ts";
 * const plan = planDialogs([{ id: "g", kind: "k", instruction: "You want tea." }], fixedPersonas(), 5);
 * console.log(plan.length, plan[0].id); // 20 "g/p0"
 * ```
 */
export function planDialogs(
  goals: readonly Goal[],
  personas: readonly RoleplayPersona[],
  seed: number,
): { id: string; goal: Goal; persona: RoleplayPersona; seed: number }[] {
  const seen = new Set<string>();
  for (const g of goals) {
    if (seen.has(g.id)) {
      throw withCode(
        new TypeError(`goal id '${g.id}' appears twice; give every goal a unique id`),
        "E_DATA",
      );
    }
    seen.add(g.id);
  }
  const out: Slot[] = [];
  for (const goal of goals) {
    personas.forEach((persona, p) => {
      const id = `${goal.id}/p${p}`;
      out.push({ id, goal, persona, seed: dialogSeed(seed, id) });
    });
  }
  return out;
}

/**
 * Totals the metrics of a set of records (the file's, after a run).
 *
 * @example
 * ```ts
 * import { summarizeRecords } from "./generate_dialogs.ts";
 * const s = summarizeRecords([{ persona: "p", sample: {}, num_turns: 2, dialog: [], end_reason: "max_turns" }]);
 * console.log(s.end_reasons); // { max_turns: 1 }
 * ```
 */
export function summarizeRecords(records: readonly DialogRecord[]): Pick<
  RoleplayRunMetrics,
  "dialogues" | "turns_total" | "mean_turns" | "end_reasons" | "counters" | "personas"
> {
  const counters = newCounters();
  const end_reasons: Record<string, number> = {};
  const personas: Record<string, string> = {};
  let turns = 0;
  for (const r of records) {
    turns += r.num_turns;
    if (r.end_reason) end_reasons[r.end_reason] = (end_reasons[r.end_reason] ?? 0) + 1;
    if (r.persona_hash) personas[r.persona_hash] = r.persona;
    if (r.counters) {
      const c = newCounters();
      for (const k of COUNTER_NAMES) c[k] = r.counters[k] ?? 0;
      addCounters(counters, c);
    }
  }
  return {
    dialogues: records.length,
    turns_total: turns,
    mean_turns: records.length ? turns / records.length : 0,
    end_reasons,
    counters,
    personas,
  };
}

function shortName(id: string): string {
  // An OpenAIChatModel id reads `openai:<model>@<url>`; keep the model's last path segment.
  const noUrl = id.replace(/@https?:\/\/.*$/, "").replace(/^[a-z]+:/, "");
  const last = noUrl.split(/[\\/]/).filter(Boolean).pop() ?? noUrl;
  return last.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._]+/, "") || "model";
}

async function rewriteTrace(path: string, keep: Set<string>): Promise<void> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const kept = lines.filter((line) => {
    try {
      return keep.has((JSON.parse(line) as { dialog_id?: string }).dialog_id ?? "");
    } catch {
      return false;
    }
  });
  if (kept.length !== lines.length) {
    await writeFileAtomic(path, kept.map((l) => l + "\n").join(""));
  }
}

/**
 * Runs the dialogues of a plan that are not yet in the output file, then writes `metrics.json`.
 * Model errors stop the run (records written so far stay; rerun to resume).
 *
 * @example
 * ```ts ignore
 * import { generateDialogs, fixedPersonas, loadGoals } from "./mod.ts";
 * import { CachedChatModel } from "../../core/chat/cached_chat_model.ts";
 * declare const gpt: import("../../core/contracts/chat_model.ts").ChatModel;
 * const cached = new CachedChatModel(gpt, { path: "runs/rp/cache.sqlite" });
 * const r = await generateDialogs({
 *   inquirer: cached, responder: cached, goals: (await loadGoals()).slice(0, 2),
 *   personas: fixedPersonas().slice(0, 3), options: { numTurns: 4, seed: 5 }, out: "runs/rp",
 * });
 * console.log(r.dialogsPath, r.metrics.counters);
 * ```
 */
export async function generateDialogs(
  options: GenerateDialogsOptions,
): Promise<GenerateDialogsResult> {
  const cfg = roleplayOptionsSchema.parse(options.options ?? {});
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw withCode(
      new RangeError(`concurrency is ${concurrency}; pass a whole number >= 1`),
      "E_USAGE",
    );
  }
  const inquirerLabel = options.inquirerLabel ?? options.inquirer.id;
  const responderLabel = options.responderLabel ?? options.responder.id;
  const plan = planDialogs(options.goals, options.personas, cfg.seed);
  const runId = options.runId ?? (await sha256Hex(canonicalJson({
    inquirer: options.inquirer.id,
    responder: options.responder.id,
    goals: options.goals,
    personas: options.personas.map((p) => p.persona_hash),
    cfg,
  }))).slice(0, 12);
  const inquirerName = options.inquirerName ?? shortName(options.inquirer.id);
  const runDir = join(options.out, "dialogs", inquirerName, runId);
  const dialogsPath = join(runDir, `${cfg.seed}.jsonl`);
  const tracePath = join(runDir, "trace.jsonl");
  const metricsPath = join(runDir, "metrics.json");
  await Deno.mkdir(runDir, { recursive: true });

  // Resume: keep the valid records (a crash may leave a cut-off last line) and the trace lines of
  // exactly those dialogues, so a replayed dialogue does not duplicate its events.
  const existing = await readDialogRecords(dialogsPath, { strict: false });
  if (existing.badLines.length) {
    await writeFileAtomic(dialogsPath, existing.records.map(formatDialogRecord).join(""));
  }
  const records = [...existing.records];
  const done = new Set(records.map((r) => r.id).filter((id): id is string => !!id));
  await rewriteTrace(tracePath, done);

  const sim = roleplaySimulator({ ...simulatorOptionsFrom(cfg), ...options.simulator });
  const total = plan.length;
  let finished = 0;
  let written = 0;
  let skipped = 0;
  let writes = Promise.resolve();
  const todo = plan.filter((slot) => {
    if (!done.has(slot.id)) return true;
    skipped++;
    options.onProgress?.({ done: ++finished, total, id: slot.id, skipped: true });
    return false;
  });

  async function runOne(slot: Slot): Promise<void> {
    const events: SimulationEvent[] = [];
    const transcript = await sim.simulate(
      { persona: slot.persona, goal: slot.goal, sampleId: slot.goal.id },
      {
        models: { inquirer: options.inquirer, responder: options.responder },
        seed: slot.seed,
        signal: options.signal,
        onEvent: (e) => events.push(e),
      },
    );
    const meta = transcript.metadata as {
      record: DialogRecord;
      end_reason: RoleplayEndReason;
      counters: RoleplayCounters;
    };
    const record: DialogRecord = {
      ...meta.record,
      id: slot.id,
      persona_hash: slot.persona.persona_hash,
      inquirer: inquirerLabel,
      responder: responderLabel,
      seed: slot.seed,
      end_reason: meta.end_reason,
      counters: { ...meta.counters },
    };
    const trace = events.map((e) => JSON.stringify({ dialog_id: slot.id, name: e.name, ...e.data }))
      .map((l) => l + "\n").join("");
    // The trace goes first: a record in the file means its trace is complete.
    writes = writes.then(async () => {
      await Deno.writeTextFile(tracePath, trace, { append: true });
      await Deno.writeTextFile(dialogsPath, formatDialogRecord(record), { append: true });
    });
    await writes;
    records.push(record);
    written++;
    options.onProgress?.({
      done: ++finished,
      total,
      id: slot.id,
      skipped: false,
      end_reason: meta.end_reason,
      num_turns: record.num_turns,
    });
  }

  const writeMetrics = async (): Promise<RoleplayRunMetrics> => {
    const metrics: RoleplayRunMetrics = {
      run_id: runId,
      inquirer: inquirerLabel,
      responder: responderLabel,
      seed: cfg.seed,
      planned: total,
      ...summarizeRecords(records),
      cfg,
    };
    await writeJsonAtomic(metricsPath, metrics);
    return metrics;
  };

  // Workers stop taking dialogues after the first failure, and the metrics are written only once
  // every worker has stopped, so they always describe the records in the file.
  let failure: { error: unknown } | undefined;
  let next = 0;
  const worker = async () => {
    while (!failure && next < todo.length) {
      try {
        options.signal?.throwIfAborted();
        await runOne(todo[next++]);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
  await writes.catch(() => {});
  const metrics = await writeMetrics();
  if (failure) throw failure.error;
  return { runId, runDir, dialogsPath, metricsPath, tracePath, written, skipped, metrics };
}
