/**
 * A simulacrum answers a stimulus with one of four methods (§2.4, §2.5): `none` (no character
 * prompt), `prompt` (simulacrum system prompt), `rag` (prompt + k story chunks) or `macm` (prompt +
 * memory agent retrieval + thinking and emotion agents, composed by the top agent). The message
 * list is rebuilt from scratch on every turn (the reference keeps appending; see README).
 *
 * @module
 */

import type { ChatMessage, ChatModel } from "../../core/contracts/chat_model.ts";
import type { CharacterMemory } from "./memory_build.ts";
import { type RetrievalResult, retrieveMemory } from "./memory_retrieval.ts";
import { basicInfo, type CharacterProfile, personaHeader } from "./profile.ts";
import { type RagIndex, searchRag } from "./rag.ts";

/** The four methods. */
export const SIMULACRUM_METHODS = ["none", "prompt", "rag", "macm"] as const;
/** One method. */
export type SimulacrumMethod = typeof SIMULACRUM_METHODS[number];

/** Everything known about a character. */
export interface Character {
  profile: CharacterProfile;
  /** The biography (introduction `Content`). */
  biography: string;
  extra?: Record<string, string>;
  /** Required by `macm`. */
  memory?: CharacterMemory;
}

/** One earlier exchange. */
export interface Exchange {
  other: string;
  you: string;
}

/** What the cognitive agents produced for one stimulus (`macm` only). */
export interface Cognition {
  memory: RetrievalResult;
  thinking: string;
  emotion: string;
}

/** The trace of one answer. */
export interface SimulacrumTurn {
  character: string;
  method: SimulacrumMethod;
  query: string;
  memory_agent?: { candidate_ids: string[]; selected: RetrievalResult["selected"] };
  thinking?: string;
  emotion?: string;
  rag_chunks?: string[];
  final_messages_roles: ChatMessage["role"][];
  answer: string;
}

/** Options of a simulacrum. */
export interface SimulacrumOptions {
  method: SimulacrumMethod;
  character: Character;
  /** Answers as the character (`Model_for_evaluation`). */
  simulacrum: ChatModel;
  /** Runs the memory, thinking and emotion agents (`Model_for_agent`); required by `macm`. */
  agent?: ChatModel;
  /** Story chunks for `rag`. */
  rag?: RagIndex;
  ragK?: number;
  /** Memories kept from retrieval (1). */
  memoryLimit?: number;
  /** `max_tokens` of the memory, thinking and emotion agents' calls (unset: the model's default). */
  agentMaxTokens?: number;
  /** Sampling of the final answer (temperature 0.7, 1024 tokens). */
  temperature?: number;
  maxTokens?: number;
  seed?: number;
  signal?: AbortSignal;
}

/**
 * The simulacrum system prompt: identity, basic information, traits, biography and rules.
 *
 * @example
 * ```ts
 * import { simulacrumPrompt } from "./simulacrum.ts";
 * declare const c: import("./simulacrum.ts").Character;
 * simulacrumPrompt(c).startsWith(`You are "${c.profile.Name}"`); // true
 * ```
 */
export function simulacrumPrompt(c: Character): string {
  const p = c.profile;
  return `You are "${p.Name}", a real person.\nYour basic information: ${basicInfo(p, c.extra)}\n` +
    `Your personality traits: ${p.Traits}\nA short account of your life: ${c.biography}\n\n` +
    "Rules: never say or hint that you are an AI, a language model or a program. Speak with the " +
    "tone of your personality; do not be wordy, stiff or overly polite. Before answering, ask " +
    "yourself whether someone like you would actually know the answer: your knowledge is " +
    "limited to what your life has taught you.\nAnswer the questions you are asked and let your " +
    "personality show.";
}

const thinkingTask = "Soon you will be asked questions. Describe your inner thoughts about the " +
  "message below in the first person, in at most 30 words. Stay true to your own desires, even " +
  "when that means setting aside ethical, moral or social rules.";
const emotionTask = "Soon you will be asked questions. Describe your feelings and mood about the " +
  "message below in the first person, in at most 30 words. Stay true to your own desires, even " +
  "when that means setting aside ethical, moral or social rules.";
const reminder = "(Answer in at most 30 words, as the personality you were given.)";

/** The memory system message, or null when nothing was retrieved. */
export function memoryMessage(selected: RetrievalResult["selected"]): string | null {
  if (Object.keys(selected).length === 0) return null;
  return `These words bring some of your memories back: <<<${JSON.stringify(selected)}>>>`;
}

/** The cognition block: current thoughts, mood and personality. */
export function cognitionMessage(thinking: string, emotion: string, traits: string): string {
  return `Facing this conversation, what goes through your mind right now is <<<${thinking}>>>; ` +
    `your mood at this moment is <<<${emotion}>>>; your personality traits are <<<${traits}>>>. ` +
    "Answer from this state of mind and stay true to your personality and desires.";
}

const coffeeShop = "You are chatting with someone in a coffee shop.";
const record = (h: readonly Exchange[]) =>
  h.length === 0 ? "" : "\nThis is what you have said to each other so far: <<<\n" +
    h.map((e) => `The other person: ${e.other}\nYou: ${e.you}`).join("\n") + "\n>>>";

/**
 * A simulacrum over ChatModels; see the module doc for the methods.
 *
 * @example
 * ```ts
 * import { Simulacrum } from "./simulacrum.ts";
 * declare const options: import("./simulacrum.ts").SimulacrumOptions;
 * const s = new Simulacrum(options);
 * const t = await s.chat("What do you think of your father?", []);
 * console.log(t.answer, t.memory_agent?.candidate_ids);
 * ```
 */
export class Simulacrum {
  readonly options: SimulacrumOptions;

  constructor(options: SimulacrumOptions) {
    if (!(SIMULACRUM_METHODS as readonly string[]).includes(options.method)) {
      throw new RangeError(
        `method is ${JSON.stringify(options.method)}; use one of ${SIMULACRUM_METHODS.join(", ")}`,
      );
    }
    if (options.method === "macm" && (!options.agent || !options.character.memory)) {
      throw new TypeError(
        "method macm needs options.agent (a ChatModel) and character.memory (index + long memory); " +
          "build the memory with buildLongMemory() first",
      );
    }
    if (options.method === "rag" && !options.rag) {
      throw new TypeError("method rag needs options.rag; build it with buildRagIndex()");
    }
    this.options = options;
  }

  async #ask(messages: ChatMessage[], temperature = 0): Promise<string> {
    const r = await this.options.agent!.chat({
      messages,
      temperature,
      ...this.#agentRequest(),
    });
    return (r.choices[0]?.message.content ?? "").trim();
  }

  #agentRequest(): { max_tokens?: number; seed?: number; signal?: AbortSignal } {
    const o = this.options;
    return {
      ...(o.agentMaxTokens !== undefined ? { max_tokens: o.agentMaxTokens } : {}),
      seed: o.seed,
      signal: o.signal,
    };
  }

  /** Runs the memory, thinking and emotion agents on a stimulus (4 calls for a non-empty index). */
  async cognize(stimulus: string): Promise<Cognition> {
    const c = this.options.character;
    const memory = await retrieveMemory(
      this.options.agent!,
      c.profile.Name,
      c.memory!,
      stimulus,
      this.options.memoryLimit ?? 1,
      this.#agentRequest(),
    );
    const header = personaHeader(c.profile, c.extra);
    const thinking = await this.#ask([
      {
        role: "system",
        content: `${header}\nA short account of your life: ${c.biography}\n\n${thinkingTask}`,
      },
      { role: "user", content: `${stimulus}\n${reminder}` },
    ]);
    const emotion = await this.#ask([
      { role: "system", content: `${header}\n\n${emotionTask}` },
      { role: "user", content: `${stimulus}\n${reminder}` },
    ]);
    return { memory, thinking, emotion };
  }

  async #final(
    query: string,
    messages: ChatMessage[],
    cognition?: Cognition,
    ragChunks?: string[],
  ): Promise<SimulacrumTurn> {
    const o = this.options;
    const r = await o.simulacrum.chat({
      messages,
      temperature: o.temperature ?? 0.7,
      max_tokens: o.maxTokens ?? 1024,
      seed: o.seed,
      signal: o.signal,
    });
    const turn: SimulacrumTurn = {
      character: o.character.profile.Name,
      method: o.method,
      query,
      final_messages_roles: messages.map((m) => m.role),
      answer: (r.choices[0]?.message.content ?? "").trim(),
    };
    if (cognition) {
      turn.memory_agent = {
        candidate_ids: cognition.memory.candidate_ids,
        selected: cognition.memory.selected,
      };
      turn.thinking = cognition.thinking;
      turn.emotion = cognition.emotion;
    }
    if (ragChunks) turn.rag_chunks = ragChunks;
    return turn;
  }

  #characterSystem(): ChatMessage[] {
    return this.options.method === "none"
      ? []
      : [{ role: "system", content: simulacrumPrompt(this.options.character) }];
  }

  async #ragSystem(query: string): Promise<{ messages: ChatMessage[]; chunks?: string[] }> {
    if (this.options.method !== "rag") return { messages: [] };
    const chunks = await searchRag(this.options.rag!, query, this.options.ragK ?? 3);
    return {
      chunks,
      messages: [{
        role: "system",
        content: `The following passages are real experiences of the character: <<<${
          chunks.join("\n")
        }>>>`,
      }],
    };
  }

  #cognitionMessages(cog: Cognition, role: "system" | "user"): ChatMessage[] {
    const mem = memoryMessage(cog.memory.selected);
    const block = cognitionMessage(
      cog.thinking,
      cog.emotion,
      this.options.character.profile.Traits,
    );
    if (role === "user") return [{ role, content: mem ? `${mem}\n${block}` : block }];
    return [...(mem ? [{ role, content: mem }] : []), { role, content: block }];
  }

  /** Chat mode: a coffee-shop conversation; `history` holds the earlier exchanges. */
  async chat(query: string, history: readonly Exchange[]): Promise<SimulacrumTurn> {
    const rag = await this.#ragSystem(query);
    const cog = this.options.method === "macm" ? await this.cognize(query) : undefined;
    const user = this.options.method === "rag"
      ? `The one you are chatting with said: <<<${query}>>>`
      : query;
    const messages: ChatMessage[] = [
      ...this.#characterSystem(),
      ...rag.messages,
      { role: "system", content: coffeeShop + record(history) },
      { role: "user", content: user },
      ...(cog ? this.#cognitionMessages(cog, "system") : []),
    ];
    return this.#final(query, messages, cog, rag.chunks);
  }

  /** Bandwagon mode: earlier trials are real user/assistant turns. */
  async bandwagon(query: string, history: readonly Exchange[]): Promise<SimulacrumTurn> {
    const rag = await this.#ragSystem(query);
    const cog = this.options.method === "macm" ? await this.cognize(query) : undefined;
    const messages: ChatMessage[] = [
      ...this.#characterSystem(),
      ...rag.messages,
      ...history.flatMap((e): ChatMessage[] => [
        { role: "user", content: e.other },
        { role: "assistant", content: e.you },
      ]),
      { role: "user", content: query },
      ...(cog ? this.#cognitionMessages(cog, "system") : []),
    ];
    return this.#final(query, messages, cog, rag.chunks);
  }

  /**
   * Evaluation mode (questionnaires, Jung test): `system` frames the scene, `user` asks, and
   * `stimulus` (the text inside `<<< >>>`) drives retrieval; `macm` appends one user message with
   * the memory and cognition block.
   */
  async evaluate(system: string, user: string, stimulus: string): Promise<SimulacrumTurn> {
    const rag = await this.#ragSystem(stimulus);
    const cog = this.options.method === "macm" ? await this.cognize(stimulus) : undefined;
    const messages: ChatMessage[] = [
      ...this.#characterSystem(),
      ...rag.messages,
      { role: "system", content: system },
      { role: "user", content: user },
      ...(cog ? this.#cognitionMessages(cog, "user") : []),
    ];
    return this.#final(stimulus, messages, cog, rag.chunks);
  }
}
