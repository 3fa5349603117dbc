/**
 * Test fixtures shared by the macm tests: a ChatModel test double that answers with a function of
 * the request (and records every request), and a small character profile.
 *
 * @module
 */

import type { ChatModel, ChatRequest, ChatResponse } from "../../../core/contracts/chat_model.ts";
import type { CharacterProfile } from "../profile.ts";

/** A ChatModel whose reply is `fn(request)`; every request is kept in `requests`. */
export class FnModel implements ChatModel {
  readonly requests: ChatRequest[] = [];
  constructor(readonly id: string, private fn: (r: ChatRequest) => string) {}
  chat(request: ChatRequest): Promise<ChatResponse> {
    this.requests.push(request);
    const content = this.fn(request);
    return Promise.resolve({
      id: "x",
      model: this.id,
      created: 0,
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    });
  }
  stream(): AsyncIterable<never> {
    throw new Error("not used");
  }
}

/** A minimal character profile. */
export const testProfile = {
  ID: "9",
  Gender: "female",
  Name: "Test Person",
  Age: 30,
  Date_of_birth: "1993-01-01",
  Photo: "NULL",
  Occupation: "baker",
  Traits: "- I often bake.",
  Hobbies: "chess",
  Family: "nuclear family",
  Education: "graduated from high school",
  "Short-term_goals": "sleep",
  "Long-term_goal": "buying a home",
} satisfies CharacterProfile;
