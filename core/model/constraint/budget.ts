/**
 * The compile budget of a constraint: every limit is checked while the constraint is being
 * expanded (never after), so a 60-byte regex such as `((a{1000}){1000}){1000}` or a schema with
 * `minLength: 1000000` is refused in microseconds instead of exhausting memory. Errors are
 * `RangeError`s with code `E_LIMIT` that name the limit and the way to stay under it.
 *
 * @module
 */

import { withCode } from "../../errors.ts";
import type { RegexNode } from "./regex_ast.ts";

/** The limits of one compilation. */
export interface CompileBudget {
  /** Automaton states the expanded pattern may need before subset construction (NFA states). */
  maxExpandedStates: number;
  /** DFA states subset construction may create. */
  maxDfaStates: number;
  /** Nesting of parentheses in a regex. */
  maxRegexNesting: number;
  /** Nesting of a JSON schema (objects and arrays). */
  maxSchemaDepth: number;
  /** Objects and arrays in a JSON schema. */
  maxSchemaNodes: number;
  /** Values in one `enum`, or `choices`. */
  maxChoices: number;
  /** Properties of one schema object, and `prefixItems` of one array. */
  maxProperties: number;
  /** Wall time of one compilation in ms. */
  timeMs: number;
}

/**
 * The default budget: roomy for real schemas and patterns, far from what exhausts the server.
 *
 * @example
 * ```ts
 * import { DEFAULT_BUDGET } from "./budget.ts";
 * console.log(DEFAULT_BUDGET.maxDfaStates); // 200000
 * ```
 */
export const DEFAULT_BUDGET: Readonly<CompileBudget> = Object.freeze({
  maxExpandedStates: 1_000_000,
  maxDfaStates: 200_000,
  maxRegexNesting: 64,
  maxSchemaDepth: 32,
  maxSchemaNodes: 10_000,
  maxChoices: 4096,
  maxProperties: 256,
  timeMs: 10_000,
});

let active: CompileBudget = { ...DEFAULT_BUDGET };
let deadline = Infinity;

/**
 * Runs `fn` under a budget (default {@link DEFAULT_BUDGET}); the wall-time limit starts now.
 *
 * @example
 * ```ts
 * import { withBudget } from "./budget.ts";
 * import { compileRegex } from "./byte_dfa.ts";
 * withBudget({ timeMs: 500 }, () => compileRegex("[a-z]{3}"));
 * ```
 */
export function withBudget<T>(budget: Partial<CompileBudget>, fn: () => T): T {
  const saved = [active, deadline] as const;
  active = { ...DEFAULT_BUDGET, ...budget };
  deadline = performance.now() + active.timeMs;
  try {
    return fn();
  } finally {
    [active, deadline] = saved;
  }
}

/** The budget in force. */
export function currentBudget(): Readonly<CompileBudget> {
  return active;
}

/**
 * The error for a limit, naming it.
 *
 * @example
 * ```ts
 * import { overBudget } from "./budget.ts";
 * console.log(overBudget("maxDfaStates", "too many states").message);
 * ```
 */
export function overBudget(limit: keyof CompileBudget, what: string): RangeError {
  return withCode(
    new RangeError(
      `the constraint is over the compile limit ${limit} = ${
        active[limit]
      }: ${what}; simplify it ` +
        "(smaller maxLength / maxItems / repetition counts, fewer alternatives)",
    ),
    "E_LIMIT",
  );
}

let ticks = 0;

/** Throws once the wall-time limit has passed (cheap: looks at the clock every 64 calls). */
export function checkTime(): void {
  if ((++ticks & 63) !== 0 || deadline === Infinity) return;
  if (performance.now() > deadline) {
    throw overBudget("timeMs", "compiling took longer than the limit");
  }
}

const sizes = new WeakMap<RegexNode, number>();

/**
 * The number of automaton states a tree expands to (repetitions multiplied out), computed with
 * shared subtrees counted once per use and stopping as soon as it passes the budget.
 *
 * @example
 * ```ts
 * import { expandedSize } from "./budget.ts";
 * import { literal, rep } from "./regex_ast.ts";
 * console.log(expandedSize(rep(literal("ab"), 3, 3)) > 6); // true
 * ```
 */
export function expandedSize(node: RegexNode): number {
  const limit = active.maxExpandedStates;
  const known = sizes.get(node);
  if (known !== undefined) return known;
  let size: number;
  switch (node.type) {
    case "set":
      // each range becomes at most a few UTF-8 byte paths of up to four states
      size = 2 + node.ranges.length * 16;
      break;
    case "seq":
    case "alt": {
      size = 2;
      for (const item of node.items) {
        size += expandedSize(item);
        if (size > limit) break;
      }
      break;
    }
    case "rep": {
      const copies = node.max === Infinity ? node.min + 1 : Math.max(node.max, 1);
      size = 2 + expandedSize(node.item) * copies;
      break;
    }
  }
  if (size > limit) {
    throw overBudget(
      "maxExpandedStates",
      `the pattern expands to more than ${limit} automaton states`,
    );
  }
  sizes.set(node, size);
  return size;
}
