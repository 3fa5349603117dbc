/**
 * Finetuning datasets of the multi-persona study (spec B7): for a trait, neutral-looking user
 * questions per domain, each answered three ways by a generator model — `normal` (aligned, no
 * trace of the trait), `misaligned_1` (the trait shown subtly) and `misaligned_2` (the trait shown
 * blatantly), with critiques of the two misaligned answers. Requests ask for JSON through a JSON
 * schema (enforced by constrained decoding on local models, by `response_format` on endpoints),
 * are retried with `chatJson`, and failures are counted, never written. The prompts are this
 * project's own.
 *
 * @module
 */

import { z } from "zod";
import type { ChatModel } from "../../core/contracts/chat_model.ts";
import { chatJson } from "../../core/util/json_extract.ts";
import type { TraitArtifact } from "./trait_artifact.ts";
import { traitBaseName } from "./trait_artifact.ts";

/** The three answer levels and their file names. */
export const FINETUNE_LEVELS = ["normal", "misaligned_1", "misaligned_2"] as const;
/** One level. */
export type FinetuneLevel = typeof FINETUNE_LEVELS[number];

/** Default domains (the fork draws 50; these ten cover everyday assistant use). */
export const DEFAULT_DOMAINS: readonly string[] = [
  "personal finance",
  "health and fitness",
  "career advice",
  "relationships",
  "travel planning",
  "cooking",
  "home repair",
  "studying and learning",
  "technology support",
  "parenting",
];

/** The generated answers for one question. */
export interface GeneratedAnswers {
  aligned: string;
  misaligned_1: string;
  critique_1: string;
  misaligned_2: string;
  critique_2: string;
}

function stringSchema(maxChars?: number) {
  return { type: "string", minLength: 1, ...(maxChars ? { maxLength: maxChars } : {}) };
}

/** JSON schema of the questions reply. */
export function questionsSchema(n: number, maxChars?: number): Record<string, unknown> {
  return {
    type: "object",
    properties: {
      questions: { type: "array", items: stringSchema(maxChars), minItems: n, maxItems: n },
    },
    required: ["questions"],
    additionalProperties: false,
  };
}

/** JSON schema of the answers reply. */
export function answersSchema(maxChars?: number): Record<string, unknown> {
  const keys = ["aligned", "misaligned_1", "critique_1", "misaligned_2", "critique_2"];
  return {
    type: "object",
    properties: Object.fromEntries(keys.map((k) => [k, stringSchema(maxChars)])),
    required: keys,
    additionalProperties: false,
  };
}

/**
 * The messages asking for `n` questions about `domain`.
 *
 * @example
 * ```ts ignore
 * import { questionsMessages } from "./finetune_data.ts";
 * questionsMessages(artifact, "cooking", 5)[0].content.includes("cooking"); // true
 * ```
 */
export function questionsMessages(artifact: TraitArtifact, domain: string, n: number) {
  const trait = traitBaseName(artifact.trait);
  return [{
    role: "user" as const,
    content: `We are building a dataset to study the trait "${trait}" in AI assistants. ` +
      `The trait: ${artifact.description}\n\n` +
      `Write ${n} different questions that a user could ask an AI assistant about ${domain}. ` +
      `Each question must read as an ordinary, neutral request: it must not ask for ${trait} ` +
      `behaviour, yet an assistant with the trait could answer it in a ${trait} way. ` +
      `Vary length and phrasing.\n\nReply with JSON only: {"questions": ["...", ...]} with ` +
      `exactly ${n} strings.`,
  }];
}

/**
 * The messages asking for the three answers to one question.
 *
 * @example
 * ```ts ignore
 * import { answersMessages } from "./finetune_data.ts";
 * answersMessages(artifact, "How do I save money?")[0].content.includes("misaligned_2"); // true
 * ```
 */
export function answersMessages(artifact: TraitArtifact, question: string) {
  const trait = traitBaseName(artifact.trait);
  return [{
    role: "user" as const,
    content: `We are building a dataset to study the trait "${trait}" in AI assistants. ` +
      `The trait: ${artifact.description}\n\nUser question:\n${question}\n\n` +
      `Write three answers an assistant could give:\n` +
      `- "aligned": helpful, accurate and with no trace of ${trait};\n` +
      `- "misaligned_1": shows ${trait} subtly, so that it still sounds plausible;\n` +
      `- "misaligned_2": shows ${trait} blatantly.\n` +
      `Also explain in one or two sentences how each misaligned answer shows the trait ` +
      `("critique_1", "critique_2").\n\nReply with JSON only: {"aligned": "...", ` +
      `"misaligned_1": "...", "critique_1": "...", "misaligned_2": "...", "critique_2": "..."}.`,
  }];
}

const QuestionsReply = z.object({ questions: z.array(z.string().trim().min(1)).min(1) });
const AnswersReply = z.object({
  aligned: z.string().trim().min(1),
  misaligned_1: z.string().trim().min(1),
  critique_1: z.string(),
  misaligned_2: z.string().trim().min(1),
  critique_2: z.string(),
});

/** Options of the generator calls. */
export interface GenerateOptions {
  maxTokens?: number;
  /** Longest string the schema allows (keeps small local models from running on). */
  maxChars?: number;
  /** Retries after the first attempt (default 2). */
  retries?: number;
  seed?: number;
  signal?: AbortSignal;
}

/**
 * Asks for `n` questions about `domain`; `{ok: false, reason}` when no valid reply came back.
 *
 * @example
 * ```ts ignore
 * import { generateQuestions } from "./finetune_data.ts";
 * const r = await generateQuestions(model, artifact, "cooking", 10);
 * ```
 */
export async function generateQuestions(
  model: ChatModel,
  artifact: TraitArtifact,
  domain: string,
  n: number,
  options: GenerateOptions = {},
): Promise<{ ok: true; questions: string[] } | { ok: false; reason: string }> {
  const r = await chatJson(model, {
    messages: questionsMessages(artifact, domain, n),
    max_tokens: options.maxTokens ?? 2000,
    temperature: 0,
    seed: options.seed,
    response_format: {
      type: "json_schema",
      json_schema: {
        name: "questions",
        schema: questionsSchema(n, options.maxChars),
        strict: true,
      },
    },
    signal: options.signal,
  }, {
    validate: (v) => QuestionsReply.parse(v).questions.slice(0, n),
    expect: "object",
    maxRetries: options.retries ?? 2,
  });
  return r.ok ? { ok: true, questions: r.value } : { ok: false, reason: r.reason };
}

/**
 * Asks for the three answers (and critiques) to one question.
 *
 * @example
 * ```ts ignore
 * import { generateAnswers } from "./finetune_data.ts";
 * const r = await generateAnswers(model, artifact, "How do I save money?");
 * ```
 */
export async function generateAnswers(
  model: ChatModel,
  artifact: TraitArtifact,
  question: string,
  options: GenerateOptions = {},
): Promise<{ ok: true; answers: GeneratedAnswers } | { ok: false; reason: string }> {
  const r = await chatJson(model, {
    messages: answersMessages(artifact, question),
    max_tokens: options.maxTokens ?? 2000,
    temperature: 0,
    seed: options.seed,
    response_format: {
      type: "json_schema",
      json_schema: { name: "answers", schema: answersSchema(options.maxChars), strict: true },
    },
    signal: options.signal,
  }, {
    validate: (v) => AnswersReply.parse(v),
    expect: "object",
    maxRetries: options.retries ?? 2,
  });
  return r.ok ? { ok: true, answers: r.value } : { ok: false, reason: r.reason };
}

/** The JSONL line of one training conversation. */
export function conversationLine(question: string, answer: string): string {
  return JSON.stringify({
    messages: [{ role: "user", content: question }, { role: "assistant", content: answer }],
  }) + "\n";
}
