/**
 * A parser for the practical regex subset constraints accept, with JavaScript (`u` flag)
 * meaning: literals, `.`, classes `[a-z]` / `[^…]`, escapes `\d \w \s \D \W \S \n \t \r \f \v \0
 * \xHH \uHHHH \u{H…}` and escaped metacharacters, groups `( )` `(?: )` `(?<name> )`, alternation,
 * `? * + {m} {m,} {m,n}` (a lazy `?` suffix is accepted and changes nothing), and `^` / `$` at
 * the very start / end. The pattern always matches the whole output. Backreferences, lookaround
 * and word boundaries are not regular over a DFA and are rejected with a `SyntaxError`.
 *
 * @module
 */

import { withCode } from "../../errors.ts";
import {
  charSet,
  type CodeRanges,
  EMPTY,
  MAX_CODE_POINT,
  negateRanges,
  normalizeRanges,
  type RegexNode,
  rep,
  seq,
} from "./regex_ast.ts";

/** Most repetitions one `{m,n}` may ask for (the DFA unrolls them). */
export const MAX_REPEAT = 1000;

const DIGIT: CodeRanges = [[0x30, 0x39]];
const WORD: CodeRanges = normalizeRanges([[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]]);
const SPACE: CodeRanges = normalizeRanges([
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
]);
/** `.`: anything but line terminators, as in JavaScript without the `s` flag. */
const DOT: CodeRanges = negateRanges([[0x0a, 0x0a], [0x0d, 0x0d], [0x2028, 0x2029]]);

function fail(source: string, pos: number, what: string): never {
  throw withCode(
    new SyntaxError(
      `regex ${JSON.stringify(source)} at offset ${pos}: ${what}; use the supported subset ` +
        `(literals, classes, \\d \\w \\s, groups, |, ? * + {m,n})`,
    ),
    "E_USAGE",
  );
}

/**
 * Parses a regex into a tree. Throws a `SyntaxError` (code `E_USAGE`) naming the offset.
 *
 * @example
 * ```ts
 * import { parseRegex } from "./regex_parser.ts";
 * const tree = parseRegex("(yes|no)\\d{1,3}");
 * console.log(tree.type); // "seq"
 * ```
 */
export function parseRegex(source: string): RegexNode {
  if (typeof source !== "string") {
    throw withCode(new TypeError(`regex is ${typeof source}; pass a string`), "E_USAGE");
  }
  const chars = [...source];
  let i = 0;
  // offsets in code points; good enough for messages
  const peek = () => chars[i];
  const eat = (c: string) => {
    if (chars[i] === c) {
      i++;
      return true;
    }
    return false;
  };

  const hex = (n: number): number => {
    const h = chars.slice(i, i + n).join("");
    if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) fail(source, i, `expected ${n} hex digits`);
    i += n;
    return parseInt(h, 16);
  };

  /** An escape after the backslash: a set of code points. */
  const escape = (inClass: boolean): CodeRanges => {
    const c = chars[i++];
    if (c === undefined) fail(source, i, "the pattern ends with a lone backslash");
    switch (c) {
      case "d":
        return DIGIT;
      case "D":
        return negateRanges(DIGIT);
      case "w":
        return WORD;
      case "W":
        return negateRanges(WORD);
      case "s":
        return SPACE;
      case "S":
        return negateRanges(SPACE);
      case "n":
        return [[0x0a, 0x0a]];
      case "t":
        return [[0x09, 0x09]];
      case "r":
        return [[0x0d, 0x0d]];
      case "f":
        return [[0x0c, 0x0c]];
      case "v":
        return [[0x0b, 0x0b]];
      case "0":
        if (/[0-9]/.test(chars[i] ?? "")) fail(source, i - 1, "octal escapes are not supported");
        return [[0, 0]];
      case "x": {
        const v = hex(2);
        return [[v, v]];
      }
      case "u": {
        if (eat("{")) {
          const start = i;
          while (i < chars.length && chars[i] !== "}") i++;
          const h = chars.slice(start, i).join("");
          if (!eat("}") || !/^[0-9a-fA-F]{1,6}$/.test(h) || parseInt(h, 16) > MAX_CODE_POINT) {
            fail(source, start, "bad \\u{…} escape");
          }
          const v = parseInt(h, 16);
          return [[v, v]];
        }
        const v = hex(4);
        return [[v, v]];
      }
      case "b":
        if (inClass) return [[0x08, 0x08]];
        return fail(source, i - 2, "word boundaries (\\b) are not supported");
      case "B":
        return fail(source, i - 2, "word boundaries (\\B) are not supported");
      default:
        if (/[1-9]/.test(c) || c === "k") fail(source, i - 2, "backreferences are not supported");
        if (/[A-Za-z]/.test(c)) fail(source, i - 2, `unknown escape \\${c}`);
        {
          const cp = c.codePointAt(0)!;
          return [[cp, cp]];
        }
    }
  };

  const charClass = (): RegexNode => {
    const start = i - 1;
    const negate = eat("^");
    const ranges: [number, number][] = [];
    let first = true;
    for (;;) {
      const c = peek();
      if (c === undefined) fail(source, start, "unterminated character class");
      if (c === "]" && !first) {
        i++;
        break;
      }
      first = false;
      const atom = (): CodeRanges => {
        const d = chars[i++];
        if (d === "\\") return escape(true);
        const cp = d.codePointAt(0)!;
        return [[cp, cp]];
      };
      const lo = atom();
      if (peek() === "-" && chars[i + 1] !== undefined && chars[i + 1] !== "]") {
        i++;
        const hi = atom();
        if (lo.length !== 1 || hi.length !== 1 || lo[0][0] !== lo[0][1] || hi[0][0] !== hi[0][1]) {
          fail(source, i, "a class range needs single characters at both ends");
        }
        if (lo[0][0] > hi[0][0]) fail(source, i, "a class range is out of order");
        ranges.push([lo[0][0], hi[0][0]]);
      } else ranges.push(...lo.map(([a, b]) => [a, b] as [number, number]));
    }
    return charSet(negate ? negateRanges(ranges) : ranges);
  };

  const atom = (): RegexNode | null => {
    const c = peek();
    if (c === undefined || c === "|" || c === ")") return null;
    i++;
    switch (c) {
      case "(": {
        if (eat("?")) {
          if (eat(":")) { /* non-capturing */ }
          else if (peek() === "<" && chars[i + 1] !== "=" && chars[i + 1] !== "!") {
            while (i < chars.length && chars[i] !== ">") i++;
            if (!eat(">")) fail(source, i, "unterminated group name");
          } else fail(source, i - 2, "lookaround and other (?…) groups are not supported");
        }
        const inner = alternation();
        if (!eat(")")) fail(source, i, "missing )");
        return inner;
      }
      case "[":
        return charClass();
      case ".":
        return charSet(DOT);
      case "\\":
        return charSet(escape(false));
      case "^":
      case "$":
        return fail(source, i - 1, `${c} is only supported at the very start / end`);
      case "*":
      case "+":
      case "?":
        return fail(source, i - 1, `nothing to repeat before ${c}`);
      case "{":
        if (/^\{\d+(,\d*)?\}/.test(chars.slice(i - 1).join(""))) {
          fail(source, i - 1, "nothing to repeat before {");
        }
        return charSet([[0x7b, 0x7b]]);
      default: {
        const cp = c.codePointAt(0)!;
        return charSet([[cp, cp]]);
      }
    }
  };

  const quantified = (): RegexNode | null => {
    let node = atom();
    if (node === null) return null;
    for (;;) {
      const c = peek();
      let min: number, max: number;
      if (c === "*") [min, max] = [0, Infinity];
      else if (c === "+") [min, max] = [1, Infinity];
      else if (c === "?") [min, max] = [0, 1];
      else if (c === "{") {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(chars.slice(i).join(""));
        if (!m) break;
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
        if (max < min) fail(source, i, `{${min},${max}} has max < min`);
        if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) {
          fail(source, i, `repetition counts above ${MAX_REPEAT} are not supported`);
        }
        i += m[0].length - 1;
      } else break;
      i++;
      eat("?"); // lazy: same language
      node = rep(node, min, max);
    }
    return node;
  };

  const sequence = (): RegexNode => {
    const items: RegexNode[] = [];
    for (;;) {
      const q = quantified();
      if (q === null) break;
      items.push(q);
    }
    return items.length === 0 ? EMPTY : seq(items);
  };

  const alternation = (): RegexNode => {
    const items = [sequence()];
    while (eat("|")) items.push(sequence());
    return items.length === 1 ? items[0] : { type: "alt", items };
  };

  if (chars[0] === "^") i++;
  if (chars.length > i && chars[chars.length - 1] === "$" && chars[chars.length - 2] !== "\\") {
    chars.pop();
  }
  const tree = alternation();
  if (i < chars.length) fail(source, i, `unexpected ${chars[i]}`);
  return tree;
}
