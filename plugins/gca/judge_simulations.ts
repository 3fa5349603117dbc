/**
 * Judging a simulation file: the four-dimension critic on every scene, BLEU and ROUGE-L, and
 * CoSER's evaluation file (`scores`, `cases`) with the judge model pinned in its metadata and
 * null verdicts counted.
 *
 * @module
 */

import type { ChatModel } from "../../core/contracts/chat_model.ts";
import type { Judge, Verdict } from "../../core/contracts/judge.ts";
import {
  aggregateGcaScores,
  type GcaCaseScore,
  type GcaJudgeInput,
  gcaMetrics,
  renderMessages,
} from "./judge.ts";
import { PINNED_JUDGE } from "./plugin_options.ts";
import { parseTestRecord } from "./schemas.ts";
import type { SimulationRecord } from "./simulate_records.ts";

/** The evaluation file the `judge` command writes. */
export interface EvaluationFile {
  format: "gca-evaluation/1";
  scores: Record<string, number | null>;
  /** BLEU and ROUGE-L averaged over every case, judged or not (they need no judge). */
  metrics: { bleu: number | null; rouge_l: number | null };
  cases: Record<string, Record<string, unknown>>;
  metadata: {
    judge_model: string;
    judge_model_pin: string;
    /** True when the judge model's id contains the pinned name (CoSER's comparability rule). */
    comparable: boolean;
    cases: number;
    null_verdicts: number;
    failures: { id: string; reason: string }[];
    seed: number;
  };
}

/** Options of {@link judgeSimulations}. */
export interface JudgeSimulationsOptions {
  judge: Judge<GcaJudgeInput, GcaCaseScore>;
  model: ChatModel;
  pin?: string;
  seed?: number;
  /** Cases judged by an earlier, interrupted run (an evaluation file's `cases`): judged cases are kept. */
  done?: EvaluationFile["cases"];
  /** Called with the evaluation so far after each case (incremental writes). */
  onProgress?: (partial: EvaluationFile) => Promise<void> | void;
  signal?: AbortSignal;
  log?: (message: string) => void;
}

/** The verdict a case of an earlier evaluation file recorded, or undefined for a null one. */
function verdictOfCase(c: Record<string, unknown> | undefined): Verdict<GcaCaseScore> | undefined {
  if (!c || typeof c.score !== "number" || !c.critique || typeof c.critique !== "object") {
    return undefined;
  }
  const { bleu, rouge_l, ...dimensions } = c.critique as Record<string, unknown>;
  return {
    value: {
      score: c.score,
      dimensions: dimensions as GcaCaseScore["dimensions"],
      bleu: Number(bleu),
      rouge_l: Number(rouge_l),
      actor_turns: Number(c.actor_turns ?? 0),
    },
  } as Verdict<GcaCaseScore>;
}

/** True when `modelId` names the pinned judge. */
export function matchesPin(modelId: string, pin: string): boolean {
  return modelId.toLowerCase().includes(pin.toLowerCase());
}

/**
 * Judges every simulation and aggregates the scores. A failed case is a null verdict: counted,
 * listed with its reason, and left out of the averages; it never throws.
 *
 * @example
 * ```ts ignore
 * import { createGcaJudge } from "./judge.ts";
 * import { judgeSimulations } from "./judge_simulations.ts";
 * import { simulationsOf } from "./simulate_records.ts";
 * declare const critic: import("../../core/contracts/chat_model.ts").ChatModel;
 * const sims = simulationsOf(JSON.parse(await Deno.readTextFile("sims.json")));
 * const evaluation = await judgeSimulations(sims, { judge: createGcaJudge(), model: critic });
 * console.log(evaluation.scores.avg, evaluation.metadata.null_verdicts);
 * ```
 */
export async function judgeSimulations(
  simulations: readonly SimulationRecord[],
  options: JudgeSimulationsOptions,
): Promise<EvaluationFile> {
  const log = options.log ?? (() => {});
  const pin = options.pin ?? PINNED_JUDGE;
  const seed = options.seed ?? 42;
  const verdicts: Verdict<GcaCaseScore>[] = [];
  const cases: EvaluationFile["cases"] = {};
  const failures: { id: string; reason: string }[] = [];
  const bleus: number[] = [];
  const rouges: number[] = [];
  const assemble = (): EvaluationFile => {
    const agg = aggregateGcaScores(verdicts);
    const mean = (xs: number[]) => xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
    return {
      format: "gca-evaluation/1",
      scores: agg.scores,
      metrics: { bleu: mean(bleus), rouge_l: mean(rouges) },
      cases,
      metadata: {
        judge_model: options.model.id,
        judge_model_pin: pin,
        comparable: matchesPin(options.model.id, pin),
        cases: agg.cases,
        null_verdicts: agg.failed,
        failures,
        seed,
      },
    };
  };
  let resumed = 0;
  for (let i = 0; i < simulations.length; i++) {
    const s = simulations[i];
    const earlier = verdictOfCase(options.done?.[s.id]);
    if (earlier) {
      verdicts.push(earlier);
      cases[s.id] = options.done![s.id];
      bleus.push(earlier.value!.bleu);
      rouges.push(earlier.value!.rouge_l);
      resumed++;
      continue;
    }
    if (resumed > 0 && i === resumed) log(`resuming: ${resumed} case(s) already judged`);
    const continueFrom = Number(
      (s.options as { continueFrom?: number } | undefined)?.continueFrom ?? 0,
    );
    const input: GcaJudgeInput = {
      record: s.circumstance,
      simulation: s.simulation,
      profiles: s.involved_character_profiles,
      continueFrom,
    };
    let verdict: Verdict<GcaCaseScore>;
    try {
      verdict = await options.judge.judge(input, {
        model: options.model,
        seed,
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      verdict = { value: null, reason: (error as Error).message };
    }
    verdicts.push(verdict);
    const simulation_str = renderMessages(s.simulation);
    // the metrics need no judge, so a failed case still reports them
    const m = gcaMetrics(parseTestRecord(s.circumstance), s.simulation, continueFrom);
    bleus.push(m.bleu);
    rouges.push(m.rouge_l);
    if (verdict.value === null) {
      failures.push({ id: s.id, reason: verdict.reason });
      cases[s.id] = {
        simulation: s.simulation,
        simulation_str,
        score: null,
        reason: verdict.reason,
        ...m,
      };
      log(
        `[${i + 1}/${simulations.length}] ${s.id}: null verdict (${verdict.reason.slice(0, 160)})`,
      );
    } else {
      const v = verdict.value;
      cases[s.id] = {
        simulation: s.simulation,
        simulation_str,
        score: v.score,
        critique: { ...v.dimensions, bleu: v.bleu, rouge_l: v.rouge_l },
        bleu: v.bleu,
        rouge_l: v.rouge_l,
        actor_turns: v.actor_turns,
      };
      log(`[${i + 1}/${simulations.length}] ${s.id}: score ${v.score.toFixed(1)}`);
    }
    await options.onProgress?.(assemble());
  }
  return assemble();
}
