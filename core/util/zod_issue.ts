/**
 * Turns the first issue of a failed zod parse into the pieces of a one-line error: the field's
 * dotted path, the value found there and the reason. An unknown key is reported as that key,
 * with the known fields when the caller can list them.
 *
 * @module
 */

import type { z } from "zod";

/** The field, the value it had and why it was rejected. */
export interface IssueDescription {
  /** Dotted path of the field (`""` for the whole input). */
  path: string;
  /** The value at that path in the input (`undefined` when absent). */
  value: unknown;
  reason: string;
}

function at(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    value = typeof value === "object" && value !== null
      ? (value as Record<PropertyKey, unknown>)[key]
      : undefined;
  }
  return value;
}

/**
 * Describes the first issue of `error` against the `input` that was parsed.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { describeZodIssue } from "./zod_issue.ts";
 * const input = { steps: -1 };
 * const r = z.object({ steps: z.number().min(1) }).safeParse(input);
 * if (!r.success) console.log(describeZodIssue(r.error, input)); // { path: "steps", value: -1, … }
 * ```
 */
export function describeZodIssue(
  error: z.ZodError,
  input: unknown,
  knownFields?: (path: readonly PropertyKey[]) => string[] | undefined,
): IssueDescription {
  const issue = error.issues[0];
  const segments = issue.path as PropertyKey[];
  if (issue.code === "unrecognized_keys") {
    const key = (issue as { keys: string[] }).keys[0];
    const known = knownFields?.(segments);
    return {
      path: [...segments.map(String), key].join("."),
      value: (at(input, segments) as Record<string, unknown> | undefined)?.[key],
      reason: known ? `unknown field; known fields: ${known.join(", ")}` : issue.message,
    };
  }
  return {
    path: segments.map(String).join("."),
    value: at(input, segments),
    reason: issue.message,
  };
}
