/**
 * A pushdown automaton over bytes for `response_format: {type: "json_object"}`: any JSON object,
 * nested to any depth, written compactly (no whitespace between tokens, which keeps outputs short
 * and stops a model from spending its budget on spaces). Strings are checked as UTF-8 byte by
 * byte (a token may end inside a multi-byte character), escapes include `\uXXXX`, numbers follow
 * the JSON grammar. `minBytes` is exact: what the open string / number / literal still needs, plus
 * one closing bracket per open container, so a budget check can always force the object closed.
 *
 * @module
 */

import type { ByteAutomaton } from "./automaton.ts";

const enum Mode {
  Top, // before the opening {
  Value, // a value must start
  ArrFirst, // after [: a value or ]
  ObjFirst, // after {: a key or }
  ObjKey, // after , in an object: a key
  Colon, // after a key
  After, // after a value: , or a closing bracket (or the end)
  Str, // inside a string
  Num, // inside a number
  Lit, // inside true / false / null
}

/** Number sub-states: which bytes may come next and whether the number may end here. */
const enum Num {
  Sign, // after -
  Zero, // after a leading 0
  Int, // in the integer digits
  Dot, // after .
  Frac, // in the fraction digits
  E, // after e / E
  ESign, // after the exponent sign
  Exp, // in the exponent digits
}

/** One parser state (immutable). */
export interface JsonState {
  /** Open containers, innermost last: `o` object, `a` array. */
  readonly stack: string;
  readonly mode: Mode;
  /** Str: pending UTF-8 bytes; Num: sub-state; Lit: unused. */
  readonly n: number;
  /** Str: allowed range of the next continuation byte (lo << 8 | hi), or escape progress. */
  readonly r: number;
  /** Str: whether the string is an object key. Lit: the rest of the literal. */
  readonly key: boolean;
  readonly lit: string;
}

function st(
  stack: string,
  mode: Mode,
  n = 0,
  r = 0,
  key = false,
  lit = "",
): JsonState {
  return { stack, mode, n, r, key, lit };
}

const isDigit = (b: number) => b >= 0x30 && b <= 0x39;
const isHex = (b: number) => isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
const ESCAPES = new Set([...'"\\/bfnrtu'].map((c) => c.charCodeAt(0)));

/** Escape progress stored in `r` while `n` is 0: 1 = after backslash, 2..5 = hex digits left + 1. */
const ESC = 1;

function afterValue(stack: string): JsonState {
  return st(stack, Mode.After);
}

/**
 * The json_object automaton (see the module doc).
 *
 * @example
 * ```ts
 * import { JsonObjectAutomaton } from "./json_object.ts";
 * import { acceptsText } from "./automaton.ts";
 * const a = new JsonObjectAutomaton();
 * console.log(acceptsText(a, '{"a":[1,{"b":null}]}'), acceptsText(a, "[1]")); // true false
 * ```
 */
export class JsonObjectAutomaton implements ByteAutomaton<JsonState> {
  readonly start: JsonState = st("", Mode.Top);

  #valueStart(stack: string, b: number): JsonState | null {
    switch (b) {
      case 0x7b: // {
        return st(stack + "o", Mode.ObjFirst);
      case 0x5b: // [
        return st(stack + "a", Mode.ArrFirst);
      case 0x22: // "
        return st(stack, Mode.Str);
      case 0x2d: // -
        return st(stack, Mode.Num, Num.Sign);
      case 0x30:
        return st(stack, Mode.Num, Num.Zero);
      case 0x74:
        return st(stack, Mode.Lit, 0, 0, false, "rue");
      case 0x66:
        return st(stack, Mode.Lit, 0, 0, false, "alse");
      case 0x6e:
        return st(stack, Mode.Lit, 0, 0, false, "ull");
      default:
        return b >= 0x31 && b <= 0x39 ? st(stack, Mode.Num, Num.Int) : null;
    }
  }

  #after(stack: string, b: number): JsonState | null {
    const top = stack[stack.length - 1];
    if (top === undefined) return null;
    if (b === 0x2c) return st(stack, top === "o" ? Mode.ObjKey : Mode.Value);
    if ((b === 0x7d && top === "o") || (b === 0x5d && top === "a")) {
      return afterValue(stack.slice(0, -1));
    }
    return null;
  }

  #string(s: JsonState, b: number): JsonState | null {
    const { stack, key } = s;
    if (s.n > 0) {
      const lo = s.r >> 8, hi = s.r & 0xff;
      if (b < lo || b > hi) return null;
      return st(stack, Mode.Str, s.n - 1, s.n > 1 ? 0x80bf : 0, key);
    }
    if (s.r === ESC) {
      if (!ESCAPES.has(b)) return null;
      return st(stack, Mode.Str, 0, b === 0x75 ? 5 : 0, key);
    }
    if (s.r >= 2) {
      if (!isHex(b)) return null;
      return st(stack, Mode.Str, 0, s.r === 2 ? 0 : s.r - 1, key);
    }
    if (b === 0x22) return key ? st(stack, Mode.Colon) : afterValue(stack);
    if (b === 0x5c) return st(stack, Mode.Str, 0, ESC, key);
    if (b < 0x20) return null;
    if (b < 0x80) return s;
    // UTF-8 lead bytes: pending count and the range of the next byte (no overlongs, surrogates)
    if (b >= 0xc2 && b <= 0xdf) return st(stack, Mode.Str, 1, 0x80bf, key);
    if (b === 0xe0) return st(stack, Mode.Str, 2, 0xa0bf, key);
    if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) {
      return st(stack, Mode.Str, 2, 0x80bf, key);
    }
    if (b === 0xed) return st(stack, Mode.Str, 2, 0x809f, key);
    if (b === 0xf0) return st(stack, Mode.Str, 3, 0x90bf, key);
    if (b >= 0xf1 && b <= 0xf3) return st(stack, Mode.Str, 3, 0x80bf, key);
    if (b === 0xf4) return st(stack, Mode.Str, 3, 0x808f, key);
    return null;
  }

  #number(s: JsonState, b: number): JsonState | null {
    const go = (n: Num) => st(s.stack, Mode.Num, n);
    switch (s.n as Num) {
      case Num.Sign:
        return b === 0x30 ? go(Num.Zero) : isDigit(b) ? go(Num.Int) : null;
      case Num.Zero:
      case Num.Int:
        if (isDigit(b) && s.n === Num.Int) return s;
        if (b === 0x2e) return go(Num.Dot);
        if (b === 0x65 || b === 0x45) return go(Num.E);
        return this.#after(s.stack, b);
      case Num.Dot:
        return isDigit(b) ? go(Num.Frac) : null;
      case Num.Frac:
        if (isDigit(b)) return s;
        if (b === 0x65 || b === 0x45) return go(Num.E);
        return this.#after(s.stack, b);
      case Num.E:
        return b === 0x2b || b === 0x2d ? go(Num.ESign) : isDigit(b) ? go(Num.Exp) : null;
      case Num.ESign:
        return isDigit(b) ? go(Num.Exp) : null;
      case Num.Exp:
        return isDigit(b) ? s : this.#after(s.stack, b);
    }
  }

  step(s: JsonState, b: number): JsonState | null {
    switch (s.mode) {
      case Mode.Top:
        return b === 0x7b ? st("o", Mode.ObjFirst) : null;
      case Mode.Value:
        return this.#valueStart(s.stack, b);
      case Mode.ArrFirst:
        return b === 0x5d ? afterValue(s.stack.slice(0, -1)) : this.#valueStart(s.stack, b);
      case Mode.ObjFirst:
        if (b === 0x7d) return afterValue(s.stack.slice(0, -1));
        return b === 0x22 ? st(s.stack, Mode.Str, 0, 0, true) : null;
      case Mode.ObjKey:
        return b === 0x22 ? st(s.stack, Mode.Str, 0, 0, true) : null;
      case Mode.Colon:
        return b === 0x3a ? st(s.stack, Mode.Value) : null;
      case Mode.After:
        return this.#after(s.stack, b);
      case Mode.Str:
        return this.#string(s, b);
      case Mode.Num:
        return this.#number(s, b);
      case Mode.Lit:
        if (b !== s.lit.charCodeAt(0)) return null;
        return s.lit.length === 1
          ? afterValue(s.stack)
          : st(s.stack, Mode.Lit, 0, 0, false, s.lit.slice(1));
    }
  }

  accepting(s: JsonState): boolean {
    return s.mode === Mode.After && s.stack === "";
  }

  minBytes(s: JsonState): number {
    const close = s.stack.length;
    switch (s.mode) {
      case Mode.Top:
        return 2;
      case Mode.Value:
        return 1 + close;
      case Mode.ArrFirst:
      case Mode.ObjFirst:
      case Mode.After:
        return close;
      case Mode.ObjKey:
        return 4 + close; // "":0
      case Mode.Colon:
        return 2 + close; // :0
      case Mode.Str: {
        const esc = s.n > 0 ? s.n : s.r === ESC ? 1 : s.r >= 2 ? s.r - 1 : 0;
        return esc + 1 + (s.key ? 2 : 0) + close;
      }
      case Mode.Num:
        return (s.n === Num.Sign || s.n === Num.Dot || s.n === Num.E || s.n === Num.ESign ? 1 : 0) +
          close;
      case Mode.Lit:
        return s.lit.length + close;
    }
  }
}
