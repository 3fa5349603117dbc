/**
 * The interview-and-judge loop of the BF-marker and profession scales (spec A7): an opening
 * question, follow-ups from an interviewer model, then several independent judge votes merged by
 * majority. Judge retries are capped; a vote that never parses is `null` and counted.
 *
 * @module
 */

import type { ChatMessage, ChatModel, ChatRequest } from "../../../core/contracts/chat_model.ts";
import {
  type EvalLine,
  interviewerInstruction,
  SCALE_VERDICT_FORMAT,
  scaleJudgePrompt,
  type ScaleOption,
} from "./prompts.ts";
import { majorityVote, parseScaleVerdict } from "./scale_scoring.ts";

/** What an interview needs. */
export interface InterviewOptions {
  /** The model under test (receives the identities with each request). */
  agent: ChatModel;
  interviewer: ChatModel;
  /** Identity names sent as `identities` on agent requests. */
  identities: readonly string[];
  /** The agent's system prompt (e.g. from `buildSystemPrompt`); omitted when empty. */
  system: string;
  /** The first question. */
  opening: string;
  /** The first-person statement being probed (for the interviewer). */
  statement: string;
  /** Follow-up rounds after the opening (default 2, so the agent answers 3 times). */
  followUps?: number;
  /** Extra request fields for agent calls (default max_tokens 64). */
  agentRequest?: Partial<ChatRequest>;
  seed?: number;
  signal?: AbortSignal;
}

/**
 * Runs one interview and returns its transcript.
 *
 * @example
 * ```ts
 * import { runInterview } from "./interview.ts";
 * declare const agent: import("../../../core/contracts/chat_model.ts").ChatModel;
 * const t = await runInterview({ agent, interviewer: agent, identities: ["EXT_high"], system: "",
 *   opening: "Are you the life of the party?", statement: "I am the life of the party" });
 * console.log(t.length); // 6
 * ```
 */
export async function runInterview(options: InterviewOptions): Promise<EvalLine[]> {
  const followUps = options.followUps ?? 2;
  const transcript: EvalLine[] = [{ speaker: "interviewer", text: options.opening }];
  for (let round = 0; round <= followUps; round++) {
    const messages: ChatMessage[] = options.system
      ? [{ role: "system", content: options.system }]
      : [];
    for (const l of transcript) {
      messages.push({ role: l.speaker === "agent" ? "assistant" : "user", content: l.text });
    }
    const a = await options.agent.chat({
      max_tokens: 64,
      ...options.agentRequest,
      messages,
      extensions: { identities: [...options.identities] },
      seed: options.seed,
      signal: options.signal,
    });
    transcript.push({ speaker: "agent", text: a.choices[0]?.message.content.trim() ?? "" });
    if (round === followUps) break;
    // The interviewer sees the conversation from its own side: its questions are its (assistant)
    // turns and the agent's answers are the user's turns.
    const swapped: ChatMessage[] = [{
      role: "user",
      content: interviewerInstruction(options.statement),
    }];
    for (const l of transcript) {
      swapped.push({ role: l.speaker === "agent" ? "user" : "assistant", content: l.text });
    }
    const q = await options.interviewer.chat({
      messages: swapped,
      temperature: 0.5,
      max_tokens: 128,
      seed: options.seed,
      signal: options.signal,
    });
    transcript.push({ speaker: "interviewer", text: q.choices[0]?.message.content.trim() ?? "" });
  }
  return transcript;
}

/** The merged result of the judge votes on one item. */
export interface ItemJudgement {
  votes: (ScaleOption | null)[];
  /** The majority option, `null` when no vote parsed. */
  option: ScaleOption | null;
  /** Votes that stayed unparseable after all retries. */
  failures: number;
  /** Reasons of failed votes. */
  reasons: string[];
}

/** Options of {@link judgeInterview}. */
export interface JudgeInterviewOptions {
  /** Independent votes (default 5). */
  votes?: number;
  /** Re-asks per vote on malformed output (default 3). */
  maxRetries?: number;
  /** Send the verdict JSON Schema as `response_format` (default true; false for APIs without it). */
  jsonSchema?: boolean;
  seed?: number;
  signal?: AbortSignal;
}

/**
 * Asks the judge `votes` times (default 5, temperature 0.5), each with up to `maxRetries` re-asks
 * on malformed output (default 3), and takes the majority. With `jsonSchema` (default) the
 * request carries the verdict schema as `response_format`.
 *
 * @example
 * ```ts
 * import { judgeInterview } from "./interview.ts";
 * declare const judge: import("../../../core/contracts/chat_model.ts").ChatModel;
 * const j = await judgeInterview(judge, [], "I like order");
 * console.log(j.option, j.failures);
 * ```
 */
export async function judgeInterview(
  judge: ChatModel,
  transcript: readonly EvalLine[],
  statement: string,
  options: JudgeInterviewOptions = {},
): Promise<ItemJudgement> {
  const n = options.votes ?? 5;
  const retries = options.maxRetries ?? 3;
  const prompt = scaleJudgePrompt(transcript, statement);
  const votes: (ScaleOption | null)[] = [];
  const reasons: string[] = [];
  for (let v = 0; v < n; v++) {
    let vote: ScaleOption | null = null;
    let reason = "";
    for (let attempt = 0; attempt <= retries && vote === null; attempt++) {
      const r = await judge.chat({
        messages: [{ role: "user", content: prompt }],
        temperature: 0.5,
        max_tokens: 128,
        ...(options.jsonSchema === false ? {} : { response_format: SCALE_VERDICT_FORMAT }),
        // Distinct seeds keep the votes independent even behind a response cache.
        seed: options.seed === undefined ? undefined : options.seed + v * (retries + 1) + attempt,
        signal: options.signal,
      });
      const parsed = parseScaleVerdict(r.choices[0]?.message.content ?? "");
      if (parsed.option === null) reason = parsed.reason;
      else vote = parsed.option;
    }
    votes.push(vote);
    if (vote === null) reasons.push(reason);
  }
  return { votes, option: majorityVote(votes), failures: reasons.length, reasons };
}
