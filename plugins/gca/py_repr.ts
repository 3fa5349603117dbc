/**
 * Python `repr` of a list of strings, as CoSER's prompts render name lists
 * (`['Ada Venn', 'Tom Venn']`), so prompts match what the models were trained on.
 *
 * @module
 */

function reprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = "";
  for (const ch of s) {
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else out += ch;
  }
  return quote + out + quote;
}

/**
 * Renders a string list the way Python's `repr(list)` does.
 *
 * @example
 * ```ts
 * import { pyList } from "./py_repr.ts";
 * pyList(["Ada", "O'Hara"]); // `['Ada', "O'Hara"]`
 * ```
 */
export function pyList(items: readonly string[]): string {
  return "[" + items.map(reprString).join(", ") + "]";
}
