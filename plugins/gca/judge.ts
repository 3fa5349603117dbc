/**
 * The GCA judge (CoSER §1.6): one critic call per dimension over a ChatModel with a JSON-schema
 * `response_format`, flaws validated with zod, and the length-normalised penalty score
 * `clamp(100 − 5 · (Σ integer severities − 0.3 · actor turns), 0, 100)`. BLEU and ROUGE-L
 * against the original conversation come with every verdict.
 *
 * A dimension whose reply stays invalid after the retries makes the case verdict `null` with the
 * reason (the released code crashes there); {@link aggregateGcaScores} counts such cases and
 * leaves them out of the averages.
 *
 * @module
 */

import { z } from "zod";
import type { Judge, JudgeContext, Verdict } from "../../core/contracts/judge.ts";
import type { Transcript } from "../../core/contracts/simulator.ts";
import { withCode } from "../../core/errors.ts";
import { chatJson } from "../../core/util/json_extract.ts";
import { involvedProfiles } from "./actor_prompt.ts";
import { buildCriticPrompt, type Dimension, DIMENSIONS } from "./judge_prompt.ts";
import { bleu } from "./metrics/bleu.ts";
import { rougeL } from "./metrics/rouge_l.ts";
import { ENVIRONMENT, parseTestRecord, type TestRecord } from "./schemas.ts";
import { NSP, type SimulationEntry } from "./simulator.ts";
import { withSpeaker } from "./speaker.ts";
import { removeThoughts } from "./thoughts.ts";

/** One flaw; a missing severity counts as 1. Non-integer severities are kept but not counted. */
export const FlawSchema = z.object({
  instance: z.string().default(""),
  type: z.string().default(""),
  severity: z.union([z.number(), z.string()]).default(1),
}).loose();

/** A flaw found by the critic. */
export type Flaw = z.infer<typeof FlawSchema>;

/** The critic's answer for one dimension. */
export const DimensionReplySchema = z.object({ flaws: z.array(FlawSchema) }).loose();

/** The JSON schema sent as `response_format` for one dimension. */
export function dimensionJsonSchema(dimension: Dimension): Record<string, unknown> {
  const flaw = {
    type: "object",
    properties: {
      instance: { type: "string" },
      type: { type: "string" },
      severity: { type: "integer" },
    },
    required: ["instance", "type", "severity"],
    additionalProperties: false,
  };
  return {
    type: "object",
    properties: {
      [dimension]: {
        type: "object",
        properties: { flaws: { type: "array", items: flaw } },
        required: ["flaws"],
        additionalProperties: false,
      },
    },
    required: [dimension],
    additionalProperties: false,
  };
}

/**
 * Validates a critic reply for `dimension`: an object whose keys are all dimension names and that
 * holds `dimension` with a `flaws` list. Throws a TypeError naming the problem.
 */
export function validateDimensionReply(value: unknown, dimension: Dimension): Flaw[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      `reply is ${
        Array.isArray(value) ? "an array" : typeof value
      }; expected an object keyed by "${dimension}"`,
    );
  }
  const keys = Object.keys(value);
  const bad = keys.filter((k) => !(DIMENSIONS as readonly string[]).includes(k));
  if (bad.length) {
    throw new TypeError(`reply has unknown keys ${JSON.stringify(bad)}; use "${dimension}"`);
  }
  const entry = (value as Record<string, unknown>)[dimension];
  if (entry === undefined) throw new TypeError(`reply lacks the key "${dimension}"`);
  const parsed = DimensionReplySchema.safeParse(entry);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new TypeError(`"${dimension}".${i.path.join(".")}: ${i.message}`);
  }
  return parsed.data.flaws;
}

/** Number of character turns: simulation entries whose role is neither NSP nor Environment. */
export function countActorTurns(simulation: readonly SimulationEntry[]): number {
  return simulation.filter((e) => e.role !== NSP && e.role !== ENVIRONMENT).length;
}

/**
 * The dimension score: `clamp(100 − 5 · (penalty − 0.3 · actorTurns), 0, 100)`, where the
 * penalty sums the severities that are integers (others are ignored, as in the paper's code).
 *
 * @example
 * ```ts
 * import { flawScore } from "./judge.ts";
 * const flaws = [2, 3, 2, 3].map((severity) => ({ instance: "", type: "", severity }));
 * flawScore(flaws, 11); // 66.5
 * ```
 */
export function flawScore(flaws: readonly { severity: unknown }[], actorTurns: number): number {
  let penalty = 0;
  for (const f of flaws) {
    if (typeof f.severity === "number" && Number.isInteger(f.severity)) penalty += f.severity;
  }
  // rounding to 1e-9 removes float noise such as 66.50000000000001 from 0.3 · n
  const raw = Math.round((100 - 5 * (penalty - 0.3 * actorTurns)) * 1e9) / 1e9;
  return Math.min(100, Math.max(0, raw));
}

/** Renders messages as the judge and the metrics see them (thoughts removed, names prefixed). */
export function renderMessages(entries: readonly { role: string; content: string }[]): string {
  return entries.filter((e) => e.role !== NSP && e.content.trim() !== "").map((e) =>
    e.role === ENVIRONMENT
      ? withSpeaker(e.content, e.role)
      : withSpeaker(removeThoughts(e.content), e.role)
  ).join("\n\n");
}

/** What the judge scores. */
export interface GcaJudgeInput {
  record: unknown;
  /** The simulation log, NSP entries included (they are skipped). */
  simulation: SimulationEntry[];
  /** Profiles shown to the critic; default: the record's involved profiles. */
  profiles?: Record<string, string>;
  continueFrom?: number;
}

/** The verdict of one case. */
export interface GcaCaseScore {
  /** Mean of the four dimension scores. */
  score: number;
  dimensions: Record<Dimension, { flaws: Flaw[]; score: number }>;
  bleu: number;
  rouge_l: number;
  actor_turns: number;
}

/** zod schema of {@link GcaCaseScore}. */
export const GcaCaseScoreSchema: z.ZodType<GcaCaseScore> = z.object({
  score: z.number(),
  dimensions: z.object(
    Object.fromEntries(
      DIMENSIONS.map((d) => [d, z.object({ flaws: z.array(FlawSchema), score: z.number() })]),
    ),
  ),
  bleu: z.number(),
  rouge_l: z.number(),
  actor_turns: z.number().int(),
}) as unknown as z.ZodType<GcaCaseScore>;

/** Builds judge input from a GCA simulator transcript. */
export function judgeInputFromTranscript(t: Transcript): GcaJudgeInput {
  const m = t.metadata as Record<string, unknown>;
  const options = m.options as { continueFrom?: number } | undefined;
  return {
    record: m.circumstance,
    simulation: m.simulation as SimulationEntry[],
    profiles: m.involved_character_profiles as Record<string, string>,
    continueFrom: options?.continueFrom ?? 0,
  };
}

/** BLEU and ROUGE-L of `simulation[k:]` against `dialogues[k:]` (CoSER §1.7). */
export function gcaMetrics(
  record: TestRecord,
  simulation: readonly SimulationEntry[],
  continueFrom = 0,
): {
  bleu: number;
  rouge_l: number;
} {
  const sim = simulation.filter((e) => e.role !== NSP).slice(continueFrom);
  const ref = record.dialogues.slice(continueFrom).map((d) => ({
    role: d.character,
    content: d.message,
  }));
  const hyp = renderMessages(sim);
  const reference = renderMessages(ref);
  return { bleu: bleu(reference, hyp), rouge_l: rougeL(hyp, reference).f };
}

/** Options of {@link createGcaJudge}. */
export interface GcaJudgeOptions {
  /** Retries per dimension after the first attempt (default 5). */
  maxRetries?: number;
  maxTokens?: number;
  /** Send `response_format` json_schema (default true). */
  jsonSchema?: boolean;
}

/**
 * Creates the GCA judge. `context.model` is the critic model (the paper pins
 * `gpt-4o-2024-08-06` for comparable numbers).
 *
 * @example
 * ```ts ignore
 * import { createGcaJudge, judgeInputFromTranscript } from "./judge.ts";
 * declare const transcript: import("../../core/contracts/simulator.ts").Transcript;
 * declare const critic: import("../../core/contracts/chat_model.ts").ChatModel;
 * const v = await createGcaJudge().judge(judgeInputFromTranscript(transcript), { model: critic });
 * console.log(v.value?.score ?? v.reason);
 * ```
 */
export function createGcaJudge(options: GcaJudgeOptions = {}): Judge<GcaJudgeInput, GcaCaseScore> {
  return {
    name: "gca",
    schema: GcaCaseScoreSchema,
    async judge(input: GcaJudgeInput, context: JudgeContext): Promise<Verdict<GcaCaseScore>> {
      if (!context.model) {
        throw withCode(
          new TypeError("the gca judge needs context.model (the critic ChatModel)"),
          "E_CONFIG",
        );
      }
      const record = parseTestRecord(input.record);
      const k = input.continueFrom ?? 0;
      const actorTurns = countActorTurns(input.simulation);
      const transcript = renderMessages(input.simulation);
      const reference = renderMessages(
        record.dialogues.map((d) => ({ role: d.character, content: d.message })),
      );
      const profiles = input.profiles ?? involvedProfiles(record);
      const results = await Promise.all(DIMENSIONS.map((dimension) =>
        chatJson(context.model!, {
          messages: [
            {
              role: "system",
              content: buildCriticPrompt(dimension, {
                record,
                profiles,
                reference,
                continueFrom: k,
              }),
            },
            { role: "user", content: transcript },
          ],
          max_tokens: options.maxTokens ?? 2048,
          seed: context.seed,
          signal: context.signal,
          response_format: options.jsonSchema === false ? undefined : {
            type: "json_schema",
            json_schema: { name: "flaws", schema: dimensionJsonSchema(dimension), strict: true },
          },
        }, {
          expect: "object",
          maxRetries: options.maxRetries ?? 5,
          validate: (v) => validateDimensionReply(v, dimension),
        })
      ));
      const failed = results.map((r, i) => [DIMENSIONS[i], r] as const).filter(([, r]) => !r.ok);
      if (failed.length) {
        return {
          value: null,
          reason: failed.map(([d, r]) => `${d}: ${r.ok ? "" : r.reason}`).join("; "),
          raw: failed[0][1].raw,
        };
      }
      const dimensions = {} as GcaCaseScore["dimensions"];
      results.forEach((r, i) => {
        const flaws = r.ok ? r.value : [];
        dimensions[DIMENSIONS[i]] = { flaws, score: flawScore(flaws, actorTurns) };
      });
      const score = DIMENSIONS.reduce((s, d) => s + dimensions[d].score, 0) / DIMENSIONS.length;
      return {
        value: {
          score,
          dimensions,
          ...gcaMetrics(record, input.simulation, k),
          actor_turns: actorTurns,
        },
      };
    },
  };
}

/** Run-level scores (CoSER's evaluation file `scores`), with the count of failed cases. */
export interface GcaRunScores {
  scores: Record<Dimension | "avg" | "bleu" | "rouge_l", number | null>;
  cases: number;
  failed: number;
  failures: string[];
}

/**
 * Averages case verdicts: each dimension over the scored cases, `avg` = mean of the four
 * dimension averages, BLEU and ROUGE-L separately. Failed cases are counted and excluded.
 *
 * @example
 * ```ts
 * import { aggregateGcaScores } from "./judge.ts";
 * aggregateGcaScores([{ value: null, reason: "Anthropomorphism: invalid value" }]).failed; // 1
 * ```
 */
export function aggregateGcaScores(verdicts: readonly Verdict<GcaCaseScore>[]): GcaRunScores {
  const ok = verdicts.filter((v): v is { value: GcaCaseScore } => v.value !== null).map((v) =>
    v.value
  );
  const mean = (xs: number[]) => xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  const scores = {} as GcaRunScores["scores"];
  for (const d of DIMENSIONS) scores[d] = mean(ok.map((c) => c.dimensions[d].score));
  const dims = DIMENSIONS.map((d) => scores[d]);
  scores.avg = dims.every((x) => x !== null) && ok.length ? mean(dims as number[]) : null;
  scores.bleu = mean(ok.map((c) => c.bleu));
  scores.rouge_l = mean(ok.map((c) => c.rouge_l));
  return {
    scores,
    cases: verdicts.length,
    failed: verdicts.length - ok.length,
    failures: verdicts.filter((v) => v.value === null).map((v) => v.reason ?? ""),
  };
}
