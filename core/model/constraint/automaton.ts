/**
 * The byte automaton every constraint compiles to. Constraints are checked on the UTF-8 bytes of
 * the output, not on characters, so a byte-level BPE token that ends in the middle of a multi-byte
 * character is judged exactly: it is allowed when some continuation of its bytes stays valid.
 *
 * @module
 */

/**
 * A deterministic automaton over bytes whose live states can always reach acceptance.
 * `step` returns null for a dead end (no accepted output starts with the bytes so far), so any
 * non-null state can still be completed; `minBytes` says how many more bytes that takes at least.
 *
 * @example
 * ```ts
 * import type { ByteAutomaton } from "./automaton.ts";
 * function accepts<S>(a: ByteAutomaton<S>, text: string): boolean {
 *   let s: S | null = a.start;
 *   for (const b of new TextEncoder().encode(text)) {
 *     s = a.step(s, b);
 *     if (s === null) return false;
 *   }
 *   return a.accepting(s);
 * }
 * ```
 */
export interface ByteAutomaton<S> {
  /** The state before any output. */
  readonly start: S;
  /** The state after one more byte, or null when no accepted output continues this way. */
  step(state: S, byte: number): S | null;
  /** Whether the output so far is complete (EOS may follow). */
  accepting(state: S): boolean;
  /** The fewest further bytes that reach an accepting state (0 when accepting). */
  minBytes(state: S): number;
  /**
   * A small key identifying the state, when states are few (a DFA state number): masks are then
   * cached per state. Absent for automata with unboundedly many states (a pushdown parser).
   */
  key?(state: S): number;
}

/**
 * Runs `bytes` from `state`; null when they lead to a dead end.
 *
 * @example
 * ```ts
 * import { runBytes } from "./automaton.ts";
 * import { compileRegex } from "./byte_dfa.ts";
 * const dfa = compileRegex("ab+");
 * const s = runBytes(dfa, dfa.start, new TextEncoder().encode("abb"));
 * console.log(s !== null && dfa.accepting(s)); // true
 * ```
 */
export function runBytes<S>(
  automaton: ByteAutomaton<S>,
  state: S,
  bytes: ArrayLike<number>,
): S | null {
  let s: S | null = state;
  for (let i = 0; i < bytes.length && s !== null; i++) s = automaton.step(s, bytes[i]);
  return s;
}

/**
 * Whether the automaton accepts `text` (as UTF-8) in full.
 *
 * @example
 * ```ts
 * import { acceptsText } from "./automaton.ts";
 * import { compileRegex } from "./byte_dfa.ts";
 * console.log(acceptsText(compileRegex("\\d{2}"), "42")); // true
 * ```
 */
export function acceptsText<S>(automaton: ByteAutomaton<S>, text: string): boolean {
  const s = runBytes(automaton, automaton.start, new TextEncoder().encode(text));
  return s !== null && automaton.accepting(s);
}
