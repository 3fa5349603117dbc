/**
 * The LLM Roleplay control loop as a Simulator: an inquirer model plays a persona with a goal and
 * talks to a responder model for at most `numTurns` turns.
 *
 * @module
 */

import type { ChatMessage, ChatModel, ChatRequest } from "../../core/contracts/chat_model.ts";
import type {
  SimulationContext,
  Simulator,
  Transcript,
  Turn,
} from "../../core/contracts/simulator.ts";
import { withCode } from "../../core/errors.ts";
import { Prng } from "../../core/util/prng.ts";
import { approxTokenCount, type TokenCounter, trimContext } from "./context_window.ts";
import { addCounters, cutSelfReply, newCounters, type RoleplayCounters } from "./counters.ts";
import { extractPrompt } from "./extract_prompt.ts";
import type { Goal } from "./goals.ts";
import { nonCoherent } from "./non_coherent.ts";
import { makePersona, type PersonaFeatures, type RoleplayPersona } from "./persona.ts";
import {
  type ConversationTemplate,
  INQUIRER_TEMPLATE,
  inquirerSystemPrompt,
  inquirerTurnPrompt,
  RESPONDER_TEMPLATE,
  responderTurnPrompt,
  SPEC_TOKENS,
} from "./prompts.ts";
import type { DialogRecord, DialogTurn } from "./record.ts";
import { stopDialog } from "./stop_dialog.ts";

/** Options of the roleplay simulator (defaults follow the reference configuration). */
export interface RoleplaySimulatorOptions {
  /** Maximum exchanged turns (12). */
  numTurns?: number;
  inquirerTemplate?: ConversationTemplate;
  responderTemplate?: ConversationTemplate;
  /** The word that ends a dialogue (`FINISH`). */
  stopToken?: string;
  /** nonCoherent max n for inquirer (4) and responder (5) outputs, and repeat count r (2). */
  inquirerMaxN?: number;
  responderMaxN?: number;
  nonCoherentR?: number;
  /** Which quoted span to use when there are several (0). */
  promptIndex?: number;
  /** Extra attempts with random sampling when no prompt is found (none by default). */
  regenerateTries?: number | null;
  inquirerMaxTokens?: number;
  responderMaxTokens?: number;
  inquirerSampling?: Pick<ChatRequest, "temperature" | "top_p" | "top_k">;
  /** A regex the inquirer's whole output must match (Dramatis' `constraint` extra); none by default. */
  inquirerRegex?: string;
  responderSampling?: Pick<ChatRequest, "temperature" | "top_p" | "top_k">;
  /** Inquirer context window (8192) and responder window (none: no trimming). */
  inquirerContextLength?: number;
  responderContextLength?: number;
  /** Token counter for trimming (a ~4 chars/token estimate by default). */
  countTokens?: TokenCounter;
  /** Inquirer assistant-history entries: forwarding + quoted extract (reference) or the extract. */
  inquirerHistory?: "prompt_and_extract" | "extract";
  /** Cut responder output at `[INST` / `### Human:` (for raw-completion responders). */
  cutSelfReplies?: boolean;
}

/** What one simulation receives. */
export interface RoleplayInput {
  persona: RoleplayPersona | PersonaFeatures;
  goal: Goal | string;
  /** Identifies the goal sample in trace events (defaults to the goal id or 0). */
  sampleId?: string | number;
}

/** Why a dialogue ended. */
export type RoleplayEndReason =
  | "max_turns"
  | "inquirer_empty"
  | "inquirer_non_coherent"
  | "stop_token"
  | "no_prompt"
  | "responder_empty"
  | "responder_non_coherent";

/** A roleplay Simulator that also totals its counters over every dialogue it ran. */
export interface RoleplaySimulator extends Simulator<RoleplayInput> {
  /** Counters summed over all `simulate()` calls of this instance. */
  readonly counters: RoleplayCounters;
  /** Personas seen so far, hash → persona sentence. */
  readonly personas: Record<string, string>;
}

const resolvePersona = (p: RoleplayPersona | PersonaFeatures): RoleplayPersona =>
  "persona_hash" in p ? p as RoleplayPersona : makePersona(p as PersonaFeatures);

/** Rejects inputs that are not `{persona, goal}` with a message naming the fix. */
function checkInput(input: RoleplayInput): void {
  const i = input as Partial<RoleplayInput> | null;
  const goal = i?.goal as Goal | string | undefined;
  const goalOk = typeof goal === "string"
    ? goal.trim() !== ""
    : typeof goal?.instruction === "string" && goal.instruction.trim() !== "";
  if (typeof i?.persona !== "object" || i.persona === null || !goalOk) {
    throw withCode(
      new TypeError(
        `roleplay input is ${JSON.stringify(input)?.slice(0, 200)}; pass {persona, goal} with ` +
          "persona a feature object {age, race, gender, education, native_english} (or a made " +
          "persona) and goal a string or {id, kind, instruction}",
      ),
      "E_DATA",
    );
  }
}

function content(response: { choices: { message: { content: string } }[] }): string {
  return response.choices[0]?.message.content ?? "";
}

/**
 * Creates the simulator. `context.models` must hold `inquirer` and `responder`.
 *
 * @example
 * ```ts
 * import { roleplaySimulator } from "./simulator.ts";
 * import { fixedPersonas } from "./persona.ts";
 * declare const inquirer: import("../../core/contracts/chat_model.ts").ChatModel;
 * declare const responder: typeof inquirer;
 * const sim = roleplaySimulator({ numTurns: 12 });
 * const t = await sim.simulate(
 *   { persona: fixedPersonas()[0], goal: "You want to plan a walking tour." },
 *   { models: { inquirer, responder }, seed: 5 },
 * );
 * console.log(t.metadata.end_reason, sim.counters);
 * ```
 */
export function roleplaySimulator(options: RoleplaySimulatorOptions = {}): RoleplaySimulator {
  const o = {
    numTurns: 12,
    inquirerTemplate: INQUIRER_TEMPLATE,
    responderTemplate: RESPONDER_TEMPLATE,
    stopToken: SPEC_TOKENS.convStopToken as string,
    inquirerMaxN: 4,
    responderMaxN: 5,
    nonCoherentR: 2,
    promptIndex: 0,
    regenerateTries: null as number | null,
    inquirerMaxTokens: 1000,
    responderMaxTokens: 4000,
    inquirerContextLength: 8192,
    countTokens: approxTokenCount,
    inquirerHistory: "prompt_and_extract" as const,
    cutSelfReplies: false,
    ...options,
  };
  if (!Number.isInteger(o.numTurns) || o.numTurns < 1) {
    throw new RangeError(`numTurns is ${o.numTurns}; pass a whole number >= 1 (reference: 12)`);
  }
  const total = newCounters();
  const personas: Record<string, string> = {};

  async function simulate(input: RoleplayInput, ctx: SimulationContext): Promise<Transcript> {
    const inquirer: ChatModel | undefined = ctx.models.inquirer;
    const responder: ChatModel | undefined = ctx.models.responder;
    if (!inquirer || !responder) {
      throw new TypeError(
        `context.models has [${Object.keys(ctx.models).join(", ")}]; ` +
          "pass ChatModels under the keys inquirer and responder",
      );
    }
    checkInput(input);
    const persona = resolvePersona(input.persona);
    const goal: Goal = typeof input.goal === "string"
      ? { id: "", kind: "", instruction: input.goal }
      : input.goal;
    const sampleId = input.sampleId ?? (goal.id || 0);
    personas[persona.persona_hash] = persona.persona;
    const counters = newCounters();
    const rng = new Prng(ctx.seed ?? 0);
    const emit = (name: string, turn: number, text: string, extra: Record<string, unknown> = {}) =>
      ctx.onEvent?.({
        name,
        data: { sample_id: sampleId, turn, persona_hash: persona.persona_hash, ...extra, text },
      });
    const base = { seed: ctx.seed, signal: ctx.signal };

    const inqHistory: ChatMessage[] = [{
      role: "system",
      content: inquirerSystemPrompt(persona.persona, o.inquirerTemplate, o.stopToken),
    }];
    const resHistory: ChatMessage[] = [{
      role: "system",
      content: o.responderTemplate.systemPrompt,
    }];
    const dialog: DialogTurn[] = [];
    const turns: Turn[] = [];
    let responderOut: string | null = null;
    let regenerations = 0;
    let sampling = o.inquirerSampling;
    let endReason: RoleplayEndReason = "max_turns";
    let turn = 0;

    while (turn < o.numTurns) {
      ctx.signal?.throwIfAborted();
      const pInq = inquirerTurnPrompt(turn, responderOut, goal.instruction, o.inquirerTemplate);
      emit("inquirer_input", turn, pInq);
      const inqMessages = trimContext(
        [...inqHistory, { role: "user", content: pInq }],
        o.countTokens,
        o.inquirerMaxTokens,
        o.inquirerContextLength,
      );
      const raw = content(
        await inquirer.chat({
          ...base,
          ...sampling,
          ...(o.inquirerRegex ? { constraint: { regex: o.inquirerRegex } } : {}),
          messages: inqMessages,
          max_tokens: o.inquirerMaxTokens,
        }),
      );
      if (!raw) {
        endReason = "inquirer_empty";
        break;
      }
      emit("inquirer_output", turn, raw);
      if (nonCoherent(raw, o.inquirerMaxN, o.nonCoherentR)) {
        counters.num_non_coherent++;
        endReason = "inquirer_non_coherent";
        break;
      }
      if (stopDialog(raw, o.stopToken)) {
        endReason = "stop_token";
        break;
      }
      const { prompt, count } = extractPrompt(raw, o.promptIndex);
      if (count > 1) counters.num_multiple_prompts++;
      // An empty quoted span ("") is no usable prompt either (deviation: the reference sends it).
      const usable = prompt !== null && prompt.trim() !== "";
      if (o.regenerateTries) {
        if (!usable && regenerations < o.regenerateTries) {
          regenerations++;
          sampling = {
            ...o.inquirerSampling,
            temperature: 0.5 + 0.5 * rng.next(),
            top_k: 5 + rng.int(46),
          };
          continue;
        }
        if (usable && regenerations > 0) {
          counters.num_regenerate_worked++;
          regenerations = 0;
          sampling = o.inquirerSampling;
        }
      }
      if (!usable) {
        counters.num_no_prompts++;
        endReason = "no_prompt";
        break;
      }
      const q = prompt as string;
      emit("inquirer_output_extract", turn, q, { num_prompts: count });
      // Only the extracted prompt enters the inquirer's history: raw outputs make it drift into
      // answering its own questions.
      inqHistory.push(
        { role: "user", content: pInq },
        {
          role: "assistant",
          content: o.inquirerHistory === "extract" ? `"${q}"` : `${pInq} "${q}"`,
        },
      );

      const pRes = responderTurnPrompt(turn, q, o.responderTemplate);
      emit("responder_input", turn, pRes);
      const resMessages: ChatMessage[] = [...resHistory, { role: "user", content: pRes }];
      let resp = content(
        await responder.chat({
          ...base,
          ...o.responderSampling,
          messages: o.responderContextLength
            ? trimContext(
              resMessages,
              o.countTokens,
              o.responderMaxTokens,
              o.responderContextLength,
            )
            : resMessages,
          max_tokens: o.responderMaxTokens,
        }),
      );
      if (o.cutSelfReplies) {
        const cut = cutSelfReply(resp);
        if (cut.cut) counters.num_self_replies++;
        resp = cut.text;
      }
      if (!resp) {
        endReason = "responder_empty";
        break;
      }
      emit("responder_output", turn, resp);
      if (nonCoherent(resp, o.responderMaxN, o.nonCoherentR)) {
        counters.num_non_coherent_model_responder++;
        endReason = "responder_non_coherent";
        break;
      }
      resHistory.push({ role: "user", content: pRes }, { role: "assistant", content: resp });
      dialog.push({ turn, model_inquirer: q, model_responder: resp });
      turns.push(
        { speaker: "inquirer", text: q, metadata: { turn, raw } },
        { speaker: "responder", text: resp, metadata: { turn } },
      );
      responderOut = resp;
      turn++;
    }

    addCounters(total, counters);
    const record: DialogRecord = {
      persona: persona.persona,
      sample: { ...goal },
      num_turns: turn,
      dialog,
    };
    ctx.onEvent?.({ name: "dialog_end", data: { sample_id: sampleId, end_reason: endReason } });
    return {
      id: `${sampleId}:${persona.persona_hash}`,
      turns,
      metadata: {
        record,
        end_reason: endReason,
        counters,
        persona_hash: persona.persona_hash,
        features: persona.features,
        inquirer: inquirer.id,
        responder: responder.id,
        seed: ctx.seed,
      },
    };
  }

  return {
    name: "roleplay",
    roles: ["inquirer", "responder"] as const,
    counters: total,
    personas,
    simulate,
  };
}
