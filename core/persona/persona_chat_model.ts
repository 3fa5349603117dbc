/**
 * `PersonaChatModel`: a persona played by a base ChatModel. It adds the persona's messages and
 * its steering and identities (the `identities` request extension) to each request, so any ChatModel (the local engine, a remote API,
 * a plugin backend) can play any persona.
 *
 * @module
 */

import type { ChatChunk, ChatModel, ChatRequest, ChatResponse } from "../contracts/chat_model.ts";
import type { Persona } from "../contracts/persona.ts";
import { requestExtension, withRequestExtension } from "../chat/request_extensions.ts";
import { buildPersonaMessages } from "./persona_messages.ts";

/**
 * The request a persona sends for a conversation: its messages (see `buildPersonaMessages`), the
 * persona's steering followed by the request's, and the request's `identities` extension when it
 * has one, else the persona's `identities` (the persona file's field for that extension, which
 * hirpf's adapter reads). `model` becomes the persona's base model.
 *
 * @example
 * ```ts
 * import { personaRequest } from "./persona_chat_model.ts";
 * import { PersonaSchema } from "../contracts/persona.ts";
 * const persona = PersonaSchema.parse({ name: "ada", model: "./tiny", identities: ["EXT_high"] });
 * console.log(personaRequest(persona, { messages: [] }).extensions); // { identities: ["EXT_high"] }
 * ```
 */
export function personaRequest(persona: Persona, request: ChatRequest): ChatRequest {
  const steering = [...persona.steering, ...(request.steering ?? [])];
  const identities = requestExtension(request, "identities") ??
    (persona.identities.length ? persona.identities : undefined);
  const out: ChatRequest = withRequestExtension(
    {
      ...request,
      model: persona.model,
      messages: buildPersonaMessages(persona, request.messages),
    },
    "identities",
    identities,
  );
  if (steering.length) out.steering = steering;
  else delete out.steering;
  return out;
}

/**
 * A ChatModel that plays a persona on a base model. Responses report the persona's name as model.
 *
 * @example
 * ```ts
 * import { PersonaChatModel } from "./persona_chat_model.ts";
 * import { PersonaSchema } from "../contracts/persona.ts";
 * import { ScriptedChatModel } from "../chat/testing/mod.ts";
 * const ada = PersonaSchema.parse({ name: "ada", model: "./tiny", system_prompt: "You are Ada." });
 * const model = new PersonaChatModel(ada, new ScriptedChatModel());
 * console.log((await model.chat({ messages: [{ role: "user", content: "hi" }] })).model); // "ada"
 * ```
 */
export class PersonaChatModel implements ChatModel {
  readonly id: string;
  readonly persona: Persona;
  #base: ChatModel;

  constructor(persona: Persona, base: ChatModel) {
    this.persona = persona;
    this.#base = base;
    this.id = `persona:${persona.name}@${base.id}`;
  }

  /** The base model's context window, when it reports one. */
  contextWindow(): number | undefined {
    return (this.#base as { contextWindow?: () => number | undefined }).contextWindow?.();
  }

  /** The prompt's token count with the persona's system prompt, when the base can count. */
  countPromptTokens(messages: ChatRequest["messages"]): number | Promise<number> | undefined {
    const base = this.#base as {
      countPromptTokens?: (m: ChatRequest["messages"]) => number | Promise<number>;
    };
    if (!base.countPromptTokens) return undefined;
    return base.countPromptTokens(personaRequest(this.persona, { messages }).messages);
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    const response = await this.#base.chat(personaRequest(this.persona, request));
    return { ...response, model: this.persona.name };
  }

  async *stream(request: ChatRequest): AsyncIterable<ChatChunk> {
    for await (const chunk of this.#base.stream(personaRequest(this.persona, request))) {
      yield { ...chunk, model: this.persona.name };
    }
  }
}
