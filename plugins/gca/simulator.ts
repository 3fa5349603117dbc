/**
 * The GCA simulation loop (CoSER §1.4) as a {@link Simulator}: one actor agent per speaking
 * character, an environment agent and a next-speaker (NSP) agent take turns for at most
 * `maxRounds` utterances; the NSP may end the scene only from round `minRoundsBeforeEnd` on.
 *
 * Models come from `context.models`: `actor:<Character Name>` for a character-specific actor,
 * else `actor`; `environment`; `nsp`. Model names (for the `llama*`/`step*` and CoSER rules)
 * are `options.actorModelName` or the model's `id`.
 *
 * @module
 */

import { z } from "zod";
import type { CachedRequest } from "../../core/chat/cached_chat_model.ts";
import type { ChatMessage, ChatModel } from "../../core/contracts/chat_model.ts";
import type {
  SimulationContext,
  Simulator,
  Transcript,
  Turn,
} from "../../core/contracts/simulator.ts";
import { withCode } from "../../core/errors.ts";
import { Prng } from "../../core/util/prng.ts";
import {
  type ActorStyle,
  buildActorPrompt,
  characterProfile,
  involvedProfiles,
  needsNamePrefix,
  RETRIEVAL_SLOT,
  wrapActorPrompt,
} from "./actor_prompt.ts";
import { buildEnvironmentPrompt } from "./environment_prompt.ts";
import { AgentHistory } from "./history.ts";
import { buildNspPrompt } from "./nsp_prompt.ts";
import { fixRepetition, keepOwnBlock } from "./postprocess.ts";
import {
  buildRetriever,
  type CharacterRetriever,
  type EmbedFn,
  RETRIEVAL_VARIANTS,
} from "./retrieval.ts";
import { type Book, ENVIRONMENT, parseTestRecord, type TestRecord } from "./schemas.ts";
import { END_CHAT, fallbackSpeaker, parseNextSpeaker, withSpeaker } from "./speaker.ts";
import { removeThoughts, splitMessage } from "./thoughts.ts";

/** The NSP log role. */
export const NSP = "NSP";

/** Simulation options; every field has the paper's default. */
export const GcaSimulationOptionsSchema = z.object({
  maxRounds: z.number().int().min(1).default(20),
  /** The NSP's `<END CHAT>` is honoured only from this round index on (0-based). */
  minRoundsBeforeEnd: z.number().int().min(0).default(5),
  wordLimit: z.number().int().min(1).default(60),
  /** Actors speak and act without `[thoughts]`. */
  woThought: z.boolean().default(false),
  /** Replay the first k utterances (and speaker choices) from the original dialogue. */
  continueFrom: z.number().int().min(0).default(0),
  /** Repeat index: changes the derived seed so repeated runs differ. */
  nth: z.number().int().min(0).default(0),
  maxTokens: z.number().int().min(1).default(512),
  /** Retries after a failed model call (attempt 0 at temperature 0, retries at 1). */
  maxRetries: z.number().int().min(0).default(2),
  nspFormat: z.enum(["reasoned", "name_only"]).default("reasoned"),
  /** `auto`: `coser` when the actor model name contains "coser", else `generic`. */
  actorStyle: z.enum(["auto", "coser", "generic"]).default("auto"),
  actorModelName: z.string().optional(),
  retrieval: z.enum(Object.keys(RETRIEVAL_VARIANTS) as [string, ...string[]]).nullable().default(
    null,
  ),
  /** Leave held-out plots and the test plot out of retrieval corpora. */
  leakageFilter: z.boolean().default(true),
});

/** Parsed simulation options. */
export type GcaSimulationOptions = z.infer<typeof GcaSimulationOptionsSchema>;

/** What the simulator receives. */
export interface GcaSimulationInput {
  /** A CoSER test record (raw JSON or already parsed). */
  record: unknown;
  options?: z.input<typeof GcaSimulationOptionsSchema>;
  /** The book file, needed only with `retrieval`. */
  book?: Book;
}

/** One entry of the CoSER simulation log. */
export interface SimulationEntry {
  role: string;
  content: string;
}

/** 32-bit FNV-1a hash of a string, for seed derivation. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function baseName(id: string): string {
  return id.split("/").pop()!.toLowerCase();
}

interface Agent {
  name: string;
  model: ChatModel;
  modelName: string;
  history: AgentHistory;
  kind: "actor" | "environment" | "nsp";
  retriever?: CharacterRetriever | null;
}

/** Calls a model with retries: temperature 0 first, 1 on retries; "" when every attempt fails. */
async function callModel(
  agent: Agent,
  messages: ChatMessage[],
  o: GcaSimulationOptions,
  seed: number,
  signal?: AbortSignal,
): Promise<{ text: string; error?: string }> {
  let error = "";
  for (let attempt = 0; attempt <= o.maxRetries; attempt++) {
    signal?.throwIfAborted();
    try {
      // `attempt` keeps retries apart in a response cache (CachedChatModel reads it, other
      // models ignore it) and the seed moves with it, so a seeded backend samples anew
      const request: CachedRequest = {
        messages,
        max_tokens: o.maxTokens,
        temperature: attempt === 0 ? 0 : 1,
        seed: (seed + attempt) >>> 0,
        signal,
      };
      if (attempt > 0) request.attempt = attempt;
      const r = await agent.model.chat(request);
      const text = r.choices[0]?.message.content ?? "";
      if (text.trim()) return { text };
      error = "empty reply";
    } catch (e) {
      if (signal?.aborted) throw e;
      error = e instanceof Error ? e.message : String(e);
    }
  }
  return { text: "", error };
}

function pickModel(models: Record<string, ChatModel>, key: string, fallback?: string): ChatModel {
  const m = models[key] ?? (fallback ? models[fallback] : undefined);
  if (!m) {
    throw withCode(
      new TypeError(
        `context.models has no "${fallback ?? key}" model (keys: ${
          Object.keys(models).join(", ") || "none"
        }); ` +
          `pass one under "${fallback ?? key}"`,
      ),
      "E_CONFIG",
    );
  }
  return m;
}

/**
 * Creates the GCA simulator. `embed` is needed only for retrieval variants.
 *
 * @example
 * ```ts ignore
 * import { createGcaSimulator } from "./simulator.ts";
 * import type { ChatModel } from "../../core/contracts/chat_model.ts";
 * declare const actor: ChatModel, env: ChatModel, nsp: ChatModel;
 * declare const record: unknown;
 * const sim = createGcaSimulator();
 * const t = await sim.simulate({ record }, { models: { actor, environment: env, nsp }, seed: 42 });
 * console.log(t.metadata.simulation);
 * ```
 */
export function createGcaSimulator(
  config: { embed?: EmbedFn } = {},
): Simulator<GcaSimulationInput> {
  return {
    name: "gca",
    roles: ["actor", "environment", "nsp"],
    simulate: (input, context) => simulateGca(input, context, config.embed),
  };
}

async function simulateGca(
  input: GcaSimulationInput,
  context: SimulationContext,
  embed?: EmbedFn,
): Promise<Transcript> {
  const parsedOptions = GcaSimulationOptionsSchema.safeParse(input.options ?? {});
  if (!parsedOptions.success) {
    const i = parsedOptions.error.issues[0];
    throw withCode(new RangeError(`gca option ${i.path.join(".")}: ${i.message}`), "E_CONFIG");
  }
  const o = parsedOptions.data;
  const record: TestRecord = parseTestRecord(input.record);
  const signal = context.signal;
  const baseSeed = context.seed ?? 42;
  const seed = hashString(`${baseSeed}:${record.book}:${record.i_p}:${record.i_c}:${o.nth}`);
  const prng = new Prng(seed);
  const speakers = record.speaking_characters_w_env;
  const profiles = involvedProfiles(record);
  const agents = new Map<string, Agent>();

  if (o.retrieval && (!input.book || !embed)) {
    throw withCode(
      new TypeError(
        `retrieval is "${o.retrieval}" but ${
          !input.book ? "input.book" : "the simulator's embed function"
        } is missing; pass it or set retrieval to null`,
      ),
      "E_CONFIG",
    );
  }

  for (const name of speakers) {
    if (name === ENVIRONMENT || agents.has(name)) continue;
    const model = pickModel(context.models, `actor:${name}`, "actor");
    const modelName = o.actorModelName ?? model.id;
    const style: ActorStyle = o.woThought
      ? "wo_thought"
      : o.actorStyle === "auto"
      ? (modelName.toLowerCase().includes("coser") ? "coser" : "generic")
      : o.actorStyle;
    const retriever = o.retrieval
      ? await buildRetriever(input.book!, name, o.retrieval as never, embed!, {
        leakageFilter: o.leakageFilter,
        testPlot: record.i_p,
      })
      : null;
    const prompt = buildActorPrompt({
      character: name,
      book: record.book,
      profile: characterProfile(record, name),
      scenario: record.scenario,
      others: Object.entries(profiles).filter(([n]) => n !== name),
      motivation: record.key_characters.find((k) => k.name === name)?.motivation ?? "",
      retrieval: retriever !== null,
      style,
    }, prng);
    agents.set(name, {
      name,
      model,
      modelName,
      kind: "actor",
      retriever,
      history: new AgentHistory(wrapActorPrompt(prompt, name, modelName, o.wordLimit)),
    });
  }
  const env = pickModel(context.models, "environment");
  agents.set(ENVIRONMENT, {
    name: ENVIRONMENT,
    model: env,
    modelName: env.id,
    kind: "environment",
    history: new AgentHistory(
      buildEnvironmentPrompt(record.scenario, record.major_characters, prng),
    ),
  });
  const nspModel = pickModel(context.models, "nsp");
  const nspPrompt = buildNspPrompt(record.scenario, speakers, o.nspFormat);
  const nsp: Agent = {
    name: NSP,
    model: nspModel,
    modelName: nspModel.id,
    kind: "nsp",
    history: new AgentHistory(nspPrompt),
  };

  const continueFrom = Math.min(o.continueFrom, record.dialogues.length);
  const simulation: SimulationEntry[] = [];
  const turns: Turn[] = [];
  let current = continueFrom > 0 ? record.dialogues[0].character : speakers[0];
  let endedBy: "end_chat" | "max_rounds" = "max_rounds";
  let fallbacks = 0;
  let failedCalls = 0;
  const allNames = [...agents.keys()];
  const systemAsUser = (a: Agent) => /^(claude|o1)/.test(baseName(a.modelName));

  for (let round = 0; round < o.maxRounds; round++) {
    if (current === END_CHAT) {
      endedBy = "end_chat";
      break;
    }
    const agent = agents.get(current);
    if (!agent) throw new Error(`internal: no agent for speaker ${JSON.stringify(current)}`);
    const replay = round < continueFrom;
    let reply: string;
    let error: string | undefined;
    if (replay) reply = record.dialogues[round].message;
    else {
      let system: string | undefined;
      if (agent.retriever) {
        const recent = agent.history.messages.filter((m) => m.role !== "system").slice(-3);
        const knowledge = await agent.retriever.retrieve(recent.map((m) => m.content).join("\n\n"));
        system = agent.history.systemPrompt.replace(RETRIEVAL_SLOT, knowledge);
      }
      const out = await callModel(
        agent,
        agent.history.request({ systemAsUser: systemAsUser(agent), system }),
        o,
        seed,
        signal,
      );
      reply = out.text;
      error = out.error;
      if (error) failedCalls++;
      if (agent.kind === "actor" && reply) {
        const base = baseName(agent.modelName);
        if (!/^(gpt|claude|o1|o3|o4)/.test(base)) reply = fixRepetition(reply);
        if (needsNamePrefix(agent.modelName)) reply = keepOwnBlock(reply, current, allNames);
      }
    }
    simulation.push({ role: current, content: reply });
    const parts = splitMessage(reply);
    turns.push({
      speaker: current,
      text: reply,
      thought: parts.thoughts.join(" ") || undefined,
      action: parts.actions.join(" ") || undefined,
      metadata: {
        kind: agent.kind,
        round,
        source: replay ? "ground_truth" : "model",
        display: withSpeaker(reply, current),
        ...(error ? { error } : {}),
      },
    });
    context.onEvent?.({ name: "gca.turn", data: { round, role: current, content: reply } });
    if (reply) {
      agent.history.append("assistant", reply);
      const shared = withSpeaker(removeThoughts(reply), current);
      for (const other of [...agents.values(), nsp]) {
        if (other !== agent) other.history.append("user", shared);
      }
    }

    let nspRaw: string;
    if (replay) nspRaw = record.dialogues[round + 1]?.character ?? END_CHAT;
    else {
      const out = await callModel(
        nsp,
        nsp.history.request({ systemAsUser: systemAsUser(nsp) }),
        o,
        seed,
        signal,
      );
      nspRaw = out.text;
      if (out.error) failedCalls++;
    }
    const name = parseNextSpeaker(nspRaw);
    let valid = false;
    if (name === END_CHAT && round >= o.minRoundsBeforeEnd) {
      current = END_CHAT;
      valid = true;
    } else if (speakers.includes(name) && name !== current && agents.has(name)) {
      current = name;
      valid = true;
    } else {
      current = fallbackSpeaker(current, record.major_characters, allNames, prng);
      fallbacks++;
    }
    simulation.push({ role: NSP, content: name });
    turns.push({
      speaker: NSP,
      text: name,
      metadata: { kind: "nsp", round, raw: nspRaw, valid, next: current },
    });
    if (valid) nsp.history.append("assistant", nspRaw);
    else {
      nsp.history.append("assistant", name);
      nsp.history.append("user", nspPrompt);
    }
  }
  if (current === END_CHAT) endedBy = "end_chat";

  const modelIds: Record<string, string> = {};
  for (const a of [...agents.values(), nsp]) modelIds[a.name] = a.model.id;
  return {
    id: `${record.book}-${record.i_p}-${record.i_c}${o.nth ? `#${o.nth}` : ""}`,
    turns,
    metadata: {
      book_title: record.book,
      i_p: record.i_p,
      i_c: record.i_c,
      circumstance: record,
      simulation,
      simulation_display: simulation.map((e) =>
        e.role === NSP ? e : { role: e.role, content: withSpeaker(e.content, e.role) }
      ),
      involved_character_profiles: profiles,
      fields: record.fields,
      options: o,
      models: modelIds,
      seed,
      endedBy,
      fallbacks,
      failedCalls,
    },
  };
}

/**
 * Runs the simulator `repeats` times with `nth = 0..repeats-1` (the paper's `--nth_exp -1` runs
 * three repeats).
 *
 * @example
 * ```ts ignore
 * import { createGcaSimulator, simulateRepeats } from "./simulator.ts";
 * declare const ctx: import("../../core/contracts/simulator.ts").SimulationContext;
 * const runs = await simulateRepeats(createGcaSimulator(), { record: {} }, ctx, 3);
 * ```
 */
export async function simulateRepeats(
  simulator: Simulator<GcaSimulationInput>,
  input: GcaSimulationInput,
  context: SimulationContext,
  repeats = 3,
): Promise<Transcript[]> {
  const out: Transcript[] = [];
  for (let nth = 0; nth < repeats; nth++) {
    out.push(await simulator.simulate({ ...input, options: { ...input.options, nth } }, context));
  }
  return out;
}
