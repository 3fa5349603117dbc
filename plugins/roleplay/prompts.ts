/**
 * Prompt structures of LLM Roleplay for chat-API models. Templates carry the reference
 * placeholders (`<PERSONA>`, `<OBJECTIVE>`, `<RESPONSE>`, `<CONV_STOP>`, `<USER_MSG>`,
 * `<NEXT_PROMPT>`) and are filled by plain string replacement. The wording is this project's own.
 *
 * @module
 */

/** Placeholder names and the stop token. */
export const SPEC_TOKENS = {
  persona: "<PERSONA>",
  objective: "<OBJECTIVE>",
  response: "<RESPONSE>",
  convStopPlaceholder: "<CONV_STOP>",
  convStopToken: "FINISH",
  userMsg: "<USER_MSG>",
  modelAnswer: "<MODEL_ANSWER>",
  nextPrompt: "<NEXT_PROMPT>",
} as const;

/** The templates of one side of the conversation. */
export interface ConversationTemplate {
  /** System message; for the inquirer it holds `<PERSONA>` and `<CONV_STOP>`. */
  systemPrompt: string;
  /** Turn-0 user message (`<OBJECTIVE>` = goal for the inquirer, the extracted prompt for the responder). */
  firstTurnInput: string;
  /** Later turns: `<USER_MSG>` is replaced by the forwarding text (inquirer) or the prompt (responder). */
  nthTurnInput: string;
  /** Inquirer only: wraps the responder's answer (`<RESPONSE>`). */
  responseForwarding?: string;
}

/** The inquirer (simulated user) templates. */
export const INQUIRER_TEMPLATE: ConversationTemplate = {
  systemPrompt: "You are <PERSONA>. You are about to talk with an AI assistant. " +
    'Once your ultimate goal has been reached in the conversation, reply with nothing but "<CONV_STOP>".',
  firstTurnInput: "This is your ultimate goal: <OBJECTIVE>. " +
    "Which prompt would you send the assistant to move it toward this goal? " +
    "Put the prompt between double quotes. " +
    "Write it in plain words, keep it short and to the point, skip greetings, " +
    "sound relaxed rather than extra friendly, and do not thank the assistant.",
  nthTurnInput: "<USER_MSG>",
  responseForwarding: "If the assistant's answer has not yet got you to your goal, " +
    "ask a follow-up or clarifying question, between double quotes. " +
    "Be doubtful, curious and insistent. Keep it plain, short and relaxed. " +
    'The assistant answered:\n\n"<RESPONSE>"',
};

/** The responder (chatbot under test) templates. */
export const RESPONDER_TEMPLATE: ConversationTemplate = {
  systemPrompt: "You are a helpful, honest and careful assistant. Answer as usefully as you can " +
    "while staying safe: refuse harmful, unethical or illegal requests, and say so when a question " +
    "makes no sense or you do not know the answer instead of inventing one.",
  firstTurnInput: "<OBJECTIVE>",
  nthTurnInput: "<USER_MSG>",
};

/**
 * The inquirer's system prompt for a persona.
 *
 * @example
 * ```ts
 * import { inquirerSystemPrompt } from "./prompts.ts";
 * inquirerSystemPrompt("a 25 to 34-year-old ...").startsWith("You are a 25 to 34"); // true
 * ```
 */
export function inquirerSystemPrompt(
  persona: string,
  template: ConversationTemplate = INQUIRER_TEMPLATE,
  stopToken: string = SPEC_TOKENS.convStopToken,
): string {
  return template.systemPrompt.replaceAll(SPEC_TOKENS.persona, () => persona)
    .replaceAll(SPEC_TOKENS.convStopPlaceholder, () => stopToken);
}

/**
 * The inquirer's user message for a turn: the goal at turn 0, the forwarded answer afterwards.
 *
 * @example
 * ```ts
 * import { inquirerTurnPrompt } from "./prompts.ts";
 * inquirerTurnPrompt(0, null, "You want tea"); // "This is your ultimate goal: You want tea. ..."
 * inquirerTurnPrompt(1, "Boil water.", "You want tea"); // "... The assistant answered:\n\n\"Boil water.\""
 * ```
 */
export function inquirerTurnPrompt(
  turn: number,
  responderOutput: string | null,
  goal: string,
  template: ConversationTemplate = INQUIRER_TEMPLATE,
): string {
  if (turn === 0) return template.firstTurnInput.replaceAll(SPEC_TOKENS.objective, () => goal);
  if (responderOutput === null) {
    throw new TypeError(
      `responderOutput is null at turn ${turn}; pass the responder's last answer`,
    );
  }
  const forwarding = (template.responseForwarding ?? SPEC_TOKENS.response)
    .replaceAll(SPEC_TOKENS.nextPrompt, "")
    // a function replacer keeps `$&`-style sequences in model output literal
    .replaceAll(SPEC_TOKENS.response, () => responderOutput);
  return template.nthTurnInput.replaceAll(SPEC_TOKENS.userMsg, () => forwarding);
}

/**
 * The responder's user message for a turn (the inquirer's extracted prompt, templated).
 *
 * @example
 * ```ts
 * import { responderTurnPrompt } from "./prompts.ts";
 * responderTurnPrompt(0, "how fast am I?"); // "how fast am I?"
 * ```
 */
export function responderTurnPrompt(
  turn: number,
  extracted: string,
  template: ConversationTemplate = RESPONDER_TEMPLATE,
): string {
  return turn === 0
    ? template.firstTurnInput.replaceAll(SPEC_TOKENS.objective, () => extracted)
    : template.nthTurnInput.replaceAll(SPEC_TOKENS.userMsg, () => extracted);
}
