/**
 * Detects a simulated user's signal that its goal is reached.
 *
 * @module
 */

// Python's string.punctuation: the 32 ASCII punctuation characters.
const ASCII_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/**
 * True when the first or the last whitespace-separated token of the trimmed text, with every
 * ASCII punctuation character removed, equals the stop token (`FINISH`) or its capitalised form
 * (`Finish`). Non-ASCII quotes such as `“FINISH”` are not stripped and do not stop.
 *
 * @example
 * ```ts
 * import { stopDialog } from "./stop_dialog.ts";
 * stopDialog('"FINISH"'); // true
 * stopDialog("Thanks, that solves it. Finish."); // true
 * stopDialog("finish the poem please"); // false (lower case)
 * ```
 */
export function stopDialog(text: string, stopToken = "FINISH"): boolean {
  const tokens = text.trim().split(/\s+/);
  const clean = (t: string) => t.trim().replace(ASCII_PUNCTUATION, "").trim();
  const first = clean(tokens[0]);
  const last = clean(tokens[tokens.length - 1]);
  const capital = stopToken.charAt(0).toUpperCase() + stopToken.slice(1).toLowerCase();
  return [stopToken, capital].some((s) => s === first || s === last);
}
