/**
 * Pulls the prompt a simulated user wrote between double quotes out of its raw output.
 *
 * @module
 */

/** What {@link extractPrompt} found. */
export interface ExtractedPrompt {
  /** The text inside the chosen quoted span (without the quotes), or null when there is none. */
  prompt: string | null;
  /** How many quoted spans the output held (0 when there is no prompt). */
  count: number;
}

/**
 * Finds all non-greedy `"…"` spans (newlines allowed). None → `{prompt: null, count: 0}`; one →
 * that span; several → the span at `index` (0 by default; callers count these as "multiple
 * prompts"). A lone unmatched quote yields no span. An empty span `""` is a span and is returned
 * as the empty string, as in the reference implementation.
 *
 * @example
 * ```ts
 * import { extractPrompt } from "./extract_prompt.ts";
 * extractPrompt('I would ask: "what is 2+2?"'); // { prompt: "what is 2+2?", count: 1 }
 * extractPrompt('"a" or "b"'); // { prompt: "a", count: 2 }
 * extractPrompt("no quotes"); // { prompt: null, count: 0 }
 * ```
 */
export function extractPrompt(text: string, index = 0): ExtractedPrompt {
  if (!text.includes('"')) return { prompt: null, count: 0 };
  const spans = [...text.matchAll(/"([\s\S]*?)"/g)].map((m) => m[1]);
  if (spans.length === 0) return { prompt: null, count: 0 };
  if (index < 0 || index >= spans.length) {
    throw new RangeError(
      `index is ${index} but the output has ${spans.length} quoted span(s); pass 0..${
        spans.length - 1
      }`,
    );
  }
  return { prompt: spans[spans.length > 1 ? index : 0], count: spans.length };
}
