/**
 * The nesting depth of JSON text, found without parsing or recursion, so hostile input (a card or
 * a request nested thousands deep) is refused before it can overflow a stack or bloat a file.
 *
 * @module
 */

/**
 * The deepest nesting of `[` / `{` in JSON text (brackets inside strings are skipped).
 *
 * @example
 * ```ts
 * import { jsonDepth } from "./json_depth.ts";
 * console.log(jsonDepth('{"a":[1,{"b":"]["}]}')); // 3
 * ```
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 92) i++; // backslash: skip the escaped character
      else if (ch === 34) inString = false;
    } else if (ch === 34) inString = true;
    else if (ch === 91 || ch === 123) {
      depth++;
      if (depth > max) max = depth;
    } else if (ch === 93 || ch === 125) depth--;
  }
  return max;
}

/**
 * The nesting depth of a parsed value (arrays and objects), walked with an explicit stack and
 * stopping once it passes `stopAt`.
 *
 * @example
 * ```ts
 * import { valueDepth } from "./json_depth.ts";
 * console.log(valueDepth({ a: [1, { b: 2 }] })); // 3
 * ```
 */
export function valueDepth(value: unknown, stopAt = Infinity): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    const depth = d + 1;
    if (depth > max) max = depth;
    if (max > stopAt) return max;
    for (const child of Object.values(v as object)) stack.push([child, depth]);
  }
  return max;
}
