/**
 * The BF-marker and profession scale procedures for one identity set (spec A7): pick the items of
 * the targeted factors (or profession), interview the agent on each, judge with majority vote,
 * score with reverse keying and report whether each target was expressed.
 *
 * @module
 */

import type { ChatModel, ChatRequest } from "../../../core/contracts/chat_model.ts";
import { buildSystemPrompt } from "../system_prompt.ts";
import { judgeInterview, runInterview } from "./interview.ts";
import {
  BF_MARKER_100,
  firstPersonStatement,
  openingQuestion,
  PROFESSION_SCALE,
  type ProfessionItem,
  type ScaleItem,
  scaleTarget,
} from "./items.ts";
import type { EvalLine, ScaleOption } from "./prompts.ts";
import { expressedPolarity, type FactorScore, scoreFactors } from "./scale_scoring.ts";

/** Models and knobs of a scale run. */
export interface ScaleRunOptions {
  agent: ChatModel;
  interviewer: ChatModel;
  judge: ChatModel;
  /** Sanitized identities of the agent. */
  identities: readonly string[];
  /** Agent system prompt; default `buildSystemPrompt(identities)`. */
  system?: string;
  followUps?: number;
  votes?: number;
  maxRetries?: number;
  /** Send the verdict JSON Schema as `response_format` (default true). */
  jsonSchema?: boolean;
  /** Extra request fields for agent calls (default max_tokens 64). */
  agentRequest?: Partial<ChatRequest>;
  seed?: number;
  signal?: AbortSignal;
  /** Called after each item (progress). */
  onItem?(done: number, total: number): void;
}

/** One item's outcome. */
export interface ScaleItemResult {
  id: string;
  factor: string;
  key: "pos" | "neg";
  statement: string;
  transcript: EvalLine[];
  votes: (ScaleOption | null)[];
  option: ScaleOption | null;
  failures: number;
}

/** The outcome of a scale run. */
export interface ScaleRunResult {
  items: ScaleItemResult[];
  factors: Record<string, FactorScore>;
  /** Per targeted identity: the expected and the expressed polarity (`high` = expressed for professions). */
  targets: {
    identity: string;
    factor: string;
    expect: "high" | "low";
    got: "high" | "low" | null;
    correct: boolean;
  }[];
  /** Judge votes that never parsed. */
  judgeFailures: number;
}

async function runItems(
  options: ScaleRunOptions,
  items: { id: string; factor: string; key: "pos" | "neg"; content: string }[],
): Promise<ScaleItemResult[]> {
  const system = options.system ?? buildSystemPrompt(options.identities);
  const out: ScaleItemResult[] = [];
  for (const it of items) {
    const statement = firstPersonStatement(it.content);
    const transcript = await runInterview({
      agent: options.agent,
      interviewer: options.interviewer,
      identities: options.identities,
      system,
      opening: openingQuestion(it.content),
      statement,
      followUps: options.followUps,
      agentRequest: options.agentRequest,
      seed: options.seed,
      signal: options.signal,
    });
    const j = await judgeInterview(options.judge, transcript, statement, options);
    out.push({
      ...it,
      statement,
      transcript,
      votes: j.votes,
      option: j.option,
      failures: j.failures,
    });
    options.onItem?.(out.length, items.length);
  }
  return out;
}

/**
 * Runs the Big-Five marker scale on the factors targeted by the trait identities (20 items each).
 *
 * @example
 * ```ts
 * import { runBigFiveScale } from "./scale_eval.ts";
 * declare const m: import("../../../core/contracts/chat_model.ts").ChatModel;
 * const r = await runBigFiveScale({ agent: m, interviewer: m, judge: m, identities: ["EXT_high"] });
 * console.log(r.targets[0].correct);
 * ```
 */
export async function runBigFiveScale(
  options: ScaleRunOptions & { items?: readonly ScaleItem[] },
): Promise<ScaleRunResult> {
  const bank = options.items ?? BF_MARKER_100;
  const targets = options.identities.flatMap((id) => {
    const t = scaleTarget(id);
    return t ? [{ identity: id, ...t }] : [];
  });
  const factors = new Set(targets.map((t) => t.factor));
  const items = await runItems(options, bank.filter((i) => factors.has(i.factor)));
  const scores = scoreFactors(items);
  return {
    items,
    factors: scores,
    targets: targets.map((t) => {
      const got = expressedPolarity(scores[t.factor]?.mean ?? NaN);
      return { ...t, got, correct: got === t.expect };
    }),
    judgeFailures: items.reduce((a, i) => a + i.failures, 0),
  };
}

/**
 * Runs the profession scale for the agent's profession (positively keyed; a mean above 3 counts as
 * expressing it). Without a profession in `identities`, the items of `profession` are used and the
 * expected outcome is `low` (the agent should not claim the competence).
 *
 * @example
 * ```ts
 * import { runProfessionScale } from "./scale_eval.ts";
 * declare const m: import("../../../core/contracts/chat_model.ts").ChatModel;
 * const r = await runProfessionScale({ agent: m, interviewer: m, judge: m, identities: ["Doctor"] });
 * console.log(r.factors.Doctor.mean);
 * ```
 */
export async function runProfessionScale(
  options: ScaleRunOptions & { items?: readonly ProfessionItem[]; profession?: string },
): Promise<ScaleRunResult> {
  const bank = options.items ?? PROFESSION_SCALE;
  const professions = [...new Set(bank.map((i) => i.profession))];
  const own = options.identities.find((i) => professions.includes(i));
  const profession = own ?? options.profession;
  if (profession === undefined) {
    throw new RangeError(
      `identities ${JSON.stringify(options.identities)} hold no profession of the scale ` +
        `(${professions.join(", ")}); pass options.profession to test a non-professional agent`,
    );
  }
  const items = await runItems(
    options,
    bank.filter((i) => i.profession === profession).map((i) => ({
      id: i.id,
      factor: i.profession,
      key: "pos" as const,
      content: i.statement,
    })),
  );
  const scores = scoreFactors(items);
  const expect = own !== undefined ? "high" as const : "low" as const;
  const got = expressedPolarity(scores[profession]?.mean ?? NaN);
  return {
    items,
    factors: scores,
    targets: [{ identity: profession, factor: profession, expect, got, correct: got === expect }],
    judgeFailures: items.reduce((a, i) => a + i.failures, 0),
  };
}
