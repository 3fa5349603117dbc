/**
 * The Judge contract: scores responses or transcripts and returns typed verdicts. A parse failure
 * is an explicit `null` value with a reason (and is counted by callers), never a silent zero.
 *
 * @module
 */

import type { z } from "zod";
import type { ChatModel } from "./chat_model.ts";

/** A verdict: a value validated by the judge's schema, or `null` with the reason. */
export type Verdict<T> =
  | { value: T; reason?: undefined; raw?: string }
  | { value: null; reason: string; raw?: string };

/** What a judge call receives. `model` is absent for judges that need no model. */
export interface JudgeContext {
  model?: ChatModel;
  seed?: number;
  signal?: AbortSignal;
}

/**
 * Scores an input.
 *
 * @example
 * ```ts
 * import type { Judge } from "./judge.ts";
 * declare const judge: Judge<string, { score: number }>;
 * const v = await judge.judge("Hello!", {});
 * console.log(v.value === null ? `failed: ${v.reason}` : v.value.score);
 * ```
 */
export interface Judge<Input = unknown, Output = unknown> {
  readonly name: string;
  /** Validates every non-null verdict value. */
  readonly schema: z.ZodType<Output>;
  judge(input: Input, context: JudgeContext): Promise<Verdict<Output>>;
}
