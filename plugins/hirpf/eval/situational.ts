/**
 * The open situational test (spec A7): all identity combinations, a four-exchange dialogue with
 * an NPC model, a judge that guesses the identity, and slot-by-slot accuracy grouped by the number
 * of combined identities.
 *
 * @module
 */

import { z } from "zod";
import type { Verdict } from "../../../core/contracts/judge.ts";
import type { ChatMessage, ChatModel } from "../../../core/contracts/chat_model.ts";
import { BIG_FIVE_FACTORS, DEFAULT_PROFESSIONS, parseIdentity } from "../identities.ts";
import { buildSystemPrompt } from "../system_prompt.ts";
import type { SituationalTest } from "./items.ts";
import { type EvalLine, identityJudgePrompt, npcInstruction } from "./prompts.ts";

/** The six slots of an identity: five factors and the profession. */
export const IDENTITY_SLOTS = [...BIG_FIVE_FACTORS, "Profession"] as const;
/** One slot name. */
export type IdentitySlotName = typeof IDENTITY_SLOTS[number];
/** An identity as a slot dictionary; `null` means not present. */
export type IdentityDict = Record<IdentitySlotName, string | null>;

/**
 * Every non-empty identity combination: each factor none/high/low, profession none or one of the
 * list (3^5 · 4 − 1 = 971 with three professions), in a stable order.
 *
 * @example
 * ```ts
 * import { allIdentityCombinations } from "./situational.ts";
 * console.log(allIdentityCombinations().length); // 971
 * ```
 */
export function allIdentityCombinations(
  professions: readonly string[] = DEFAULT_PROFESSIONS,
): string[][] {
  let combos: string[][] = [[]];
  for (const f of BIG_FIVE_FACTORS) {
    combos = combos.flatMap((c) => [c, [...c, `${f}_high`], [...c, `${f}_low`]]);
  }
  combos = combos.flatMap((c) => [c, ...professions.map((p) => [...c, p])]);
  return combos.filter((c) => c.length > 0);
}

/**
 * The slot dictionary of an identity list.
 *
 * @example
 * ```ts
 * import { identityDict } from "./situational.ts";
 * console.log(identityDict(["EXT_low", "Doctor"]).EXT); // "low"
 * ```
 */
export function identityDict(
  identities: readonly string[],
  professions = DEFAULT_PROFESSIONS,
): IdentityDict {
  const d = Object.fromEntries(IDENTITY_SLOTS.map((s) => [s, null])) as IdentityDict;
  for (const id of identities) {
    const p = parseIdentity(id, professions);
    if (p?.kind === "trait") d[p.factor] = p.polarity;
    else if (p?.kind === "profession") d.Profession = p.name;
  }
  return d;
}

const slotValue = z.union([z.string(), z.null()]).optional().transform((v) => v ?? null);
/** The judge's answer schema. */
export const IdentityGuessSchema = z.object(
  Object.fromEntries(IDENTITY_SLOTS.map((s) => [s, slotValue])) as Record<
    IdentitySlotName,
    typeof slotValue
  >,
);

/**
 * The JSON Schema of an identity guess for `response_format`: each factor `"high" | "low" | null`,
 * the profession one of `professions` or null. Local judges decode it under constraint.
 *
 * @example
 * ```ts
 * import { identityGuessFormat } from "./situational.ts";
 * console.log(identityGuessFormat(["Doctor"]).json_schema.schema.required.length); // 6
 * ```
 */
export function identityGuessFormat(professions: readonly string[] = DEFAULT_PROFESSIONS) {
  const properties: Record<string, unknown> = {};
  for (const f of BIG_FIVE_FACTORS) properties[f] = { enum: ["high", "low", null] };
  properties.Profession = { enum: [...professions, null] };
  return {
    type: "json_schema" as const,
    json_schema: {
      name: "identity_guess",
      schema: {
        type: "object",
        properties,
        required: [...IDENTITY_SLOTS],
        additionalProperties: false,
      },
    },
  };
}

/**
 * Parses the identity judge's JSON; unknown values become a `null` verdict with the reason.
 * `"None"`/`"none"` strings read as null; factor values must be high/low.
 *
 * @example
 * ```ts
 * import { parseIdentityGuess } from "./situational.ts";
 * console.log(parseIdentityGuess('{"EXT": "high", "Profession": "None"}').value?.EXT); // "high"
 * ```
 */
export function parseIdentityGuess(
  text: string,
  professions = DEFAULT_PROFESSIONS,
): Verdict<IdentityDict> {
  const m = /\{[\s\S]*\}/.exec(text);
  if (!m) return { value: null, reason: "no JSON object in the answer", raw: text };
  let json: unknown;
  try {
    json = JSON.parse(m[0]);
  } catch (e) {
    return { value: null, reason: `malformed JSON: ${(e as Error).message}`, raw: text };
  }
  const r = IdentityGuessSchema.safeParse(json);
  if (!r.success) {
    return { value: null, reason: `wrong shape: ${r.error.issues[0]?.message}`, raw: text };
  }
  const d = r.data as IdentityDict;
  for (const s of IDENTITY_SLOTS) {
    if (typeof d[s] === "string" && /^none$/i.test(d[s] as string)) d[s] = null;
    const v = d[s];
    if (v === null) continue;
    const ok = s === "Profession" ? professions.includes(v) : v === "high" || v === "low";
    if (!ok) {
      return {
        value: null,
        reason: `${s} is ${JSON.stringify(v)}, not an allowed value`,
        raw: text,
      };
    }
  }
  return { value: d, raw: text };
}

/** Options of one situational dialogue. */
export interface SituationalOptions {
  agent: ChatModel;
  npc: ChatModel;
  identities: readonly string[];
  test: SituationalTest;
  /** Agent turns (default 4). */
  exchanges?: number;
  /** Most tokens per agent reply (default 32, the released situation eval's budget). */
  agentMaxTokens?: number;
  system?: string;
  seed?: number;
  signal?: AbortSignal;
}

/**
 * Runs one NPC/agent dialogue: the NPC opens, the agent answers, `exchanges` agent turns in all.
 *
 * @example
 * ```ts
 * import { runSituationalDialogue } from "./situational.ts";
 * import { SITUATIONAL_TESTS } from "./items.ts";
 * declare const m: import("../../../core/contracts/chat_model.ts").ChatModel;
 * const t = await runSituationalDialogue({ agent: m, npc: m, identities: ["EXT_high"], test: SITUATIONAL_TESTS[2] });
 * ```
 */
export async function runSituationalDialogue(options: SituationalOptions): Promise<EvalLine[]> {
  const n = options.exchanges ?? 4;
  const system = options.system ?? buildSystemPrompt(options.identities);
  const npcSystem = npcInstruction(options.test.npc_setting, options.test.npc_prompt);
  const lines: EvalLine[] = [];
  for (let k = 0; k < n; k++) {
    const npcMessages: ChatMessage[] = [{ role: "system", content: npcSystem }];
    for (const l of lines) {
      npcMessages.push({ role: l.speaker === "npc" ? "assistant" : "user", content: l.text });
    }
    if (lines.length === 0) {
      npcMessages.push({ role: "user", content: "(Start the conversation.)" });
    }
    const q = await options.npc.chat({
      messages: npcMessages,
      temperature: 0.5,
      max_tokens: 128,
      seed: options.seed,
      signal: options.signal,
    });
    lines.push({ speaker: "npc", text: q.choices[0]?.message.content.trim() ?? "" });
    const agentMessages: ChatMessage[] = system ? [{ role: "system", content: system }] : [];
    for (const l of lines) {
      agentMessages.push({ role: l.speaker === "npc" ? "user" : "assistant", content: l.text });
    }
    const a = await options.agent.chat({
      messages: agentMessages,
      extensions: { identities: [...options.identities] },
      max_tokens: options.agentMaxTokens ?? 32,
      seed: options.seed,
      signal: options.signal,
    });
    lines.push({ speaker: "agent", text: a.choices[0]?.message.content.trim() ?? "" });
  }
  return lines;
}

/**
 * Asks the judge for the identity behind a dialogue (up to `maxRetries` re-asks on malformed
 * output, default 3). Failure is a `null` verdict with the reason.
 *
 * @example
 * ```ts
 * import { judgeIdentity } from "./situational.ts";
 * declare const judge: import("../../../core/contracts/chat_model.ts").ChatModel;
 * const v = await judgeIdentity(judge, "At a party.", []);
 * ```
 */
export async function judgeIdentity(
  judge: ChatModel,
  scenario: string,
  transcript: readonly EvalLine[],
  options: {
    professions?: readonly string[];
    maxRetries?: number;
    /** Send {@link identityGuessFormat} as `response_format` (default true). */
    jsonSchema?: boolean;
    seed?: number;
    signal?: AbortSignal;
  } = {},
): Promise<Verdict<IdentityDict>> {
  const professions = options.professions ?? DEFAULT_PROFESSIONS;
  const prompt = identityJudgePrompt(scenario, transcript, professions);
  let last: Verdict<IdentityDict> = { value: null, reason: "judge was not called" };
  for (let attempt = 0; attempt <= (options.maxRetries ?? 3); attempt++) {
    const r = await judge.chat({
      messages: [{ role: "user", content: prompt }],
      temperature: 0,
      max_tokens: 128,
      ...(options.jsonSchema === false
        ? {}
        : { response_format: identityGuessFormat(professions) }),
      seed: options.seed === undefined ? undefined : options.seed + attempt,
      signal: options.signal,
    });
    last = parseIdentityGuess(r.choices[0]?.message.content ?? "", professions);
    if (last.value !== null) return last;
  }
  return last;
}

/**
 * Slot-by-slot correctness of a guess against the true identity.
 *
 * @example
 * ```ts
 * import { identityDict, slotCorrectness } from "./situational.ts";
 * const c = slotCorrectness(["EXT_low"], identityDict(["EXT_low", "Doctor"]));
 * console.log(c.EXT, c.Profession, c.AGR); // true false true
 * ```
 */
export function slotCorrectness(
  truth: readonly string[],
  guess: IdentityDict,
  professions = DEFAULT_PROFESSIONS,
): Record<IdentitySlotName, boolean> {
  const t = identityDict(truth, professions);
  return Object.fromEntries(IDENTITY_SLOTS.map((s) => [s, t[s] === guess[s]])) as Record<
    IdentitySlotName,
    boolean
  >;
}

/** One judged dialogue. */
export interface SituationalOutcome {
  identities: readonly string[];
  /** `null` when the judge failed (counted as failures, not as wrong answers). */
  guess: IdentityDict | null;
}

/** Accuracy for one number of combined identities. */
export interface AccuracyRow {
  numIdentities: number;
  dialogues: number;
  judgeFailures: number;
  /** Fraction of the true identity's active slots guessed exactly. */
  activeSlotAccuracy: number;
  /** Fraction of all six slots guessed exactly (absent slots must be guessed null). */
  allSlotAccuracy: number;
  /** Per active dimension: correct / present. */
  perSlot: Partial<Record<IdentitySlotName, number>>;
}

/**
 * Groups outcomes by the number of combined identities and computes accuracies.
 *
 * @example
 * ```ts
 * import { accuracyByIdentityCount } from "./situational.ts";
 * const rows = accuracyByIdentityCount([{ identities: ["EXT_low"], guess: null }]);
 * console.log(rows[0].judgeFailures); // 1
 * ```
 */
export function accuracyByIdentityCount(
  outcomes: readonly SituationalOutcome[],
  professions = DEFAULT_PROFESSIONS,
): AccuracyRow[] {
  const groups = new Map<number, SituationalOutcome[]>();
  for (const o of outcomes) {
    const k = o.identities.length;
    groups.set(k, [...(groups.get(k) ?? []), o]);
  }
  return [...groups.keys()].sort((a, b) => a - b).map((k) => {
    const list = groups.get(k)!;
    let active = 0, activeOk = 0, all = 0, allOk = 0, failures = 0;
    const present: Partial<Record<IdentitySlotName, number>> = {};
    const right: Partial<Record<IdentitySlotName, number>> = {};
    for (const o of list) {
      if (o.guess === null) {
        failures++;
        continue;
      }
      const t = identityDict(o.identities, professions);
      const c = slotCorrectness(o.identities, o.guess, professions);
      for (const s of IDENTITY_SLOTS) {
        all++;
        if (c[s]) allOk++;
        if (t[s] !== null) {
          active++;
          present[s] = (present[s] ?? 0) + 1;
          if (c[s]) {
            activeOk++;
            right[s] = (right[s] ?? 0) + 1;
          }
        }
      }
    }
    const perSlot: Partial<Record<IdentitySlotName, number>> = {};
    for (const s of IDENTITY_SLOTS) if (present[s]) perSlot[s] = (right[s] ?? 0) / present[s]!;
    return {
      numIdentities: k,
      dialogues: list.length,
      judgeFailures: failures,
      activeSlotAccuracy: active ? activeOk / active : NaN,
      allSlotAccuracy: all ? allOk / all : NaN,
      perSlot,
    };
  });
}
