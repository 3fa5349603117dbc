/**
 * JSON Schema → regex tree, for constrained decoding of structured output. The output is compact
 * JSON (no whitespace) with object properties in schema order, so one schema gives a regular
 * language that {@link compileDfa} turns into a byte DFA.
 *
 * Supported: `type` (one or a list), `enum`, `const`, `anyOf` / `oneOf` (both as alternatives),
 * a one-element `allOf`, `$ref` into `$defs` / `definitions` (recursion is cut after
 * {@link MAX_REF_DEPTH} levels: deeper branches are dropped, so optional or empty-list recursion
 * still works); strings with `minLength` / `maxLength` / `pattern`; numbers and integers with
 * `minimum` / `maximum` / `exclusiveMinimum` / `exclusiveMaximum`; booleans; null; arrays with
 * `items` / `prefixItems` / `minItems` / `maxItems`; objects with `properties` / `required`, or
 * `additionalProperties: schema` (a map) when they have no properties; `{}` = any JSON value.
 *
 * What is emitted is a subset of what the schema allows, chosen so every output validates:
 * - only declared properties are written (extra ones are never needed to satisfy a schema);
 * - strings use raw characters plus the escapes `\" \\ \/ \b \f \n \r \t` (no `\uXXXX`); when a
 *   length bound is given they stay in the Basic Multilingual Plane, so code points, UTF-16 units
 *   (zod's `.max()`) and JSON Schema's count agree; with a `pattern`, the pattern's characters
 *   are written raw (characters that would need escaping are left out of its classes) and the
 *   length bounds are not enforced;
 * - numbers have no exponent, at most 15 integer and 15 fraction digits (safe integers, finite);
 *   bounds that are not whole numbers are rounded inward (a maximum of 2.5 allows up to 2);
 * - any JSON value (`{}`, objects without properties) nests at most {@link ANY_DEPTH} levels.
 * `format` is not checked unless the schema also gives a `pattern` (zod does for email, uuid,
 * ISO dates and the like). `not`, `if`/`then`, `multipleOf`, `patternProperties`, `uniqueItems` and multi-part `allOf` are
 * rejected with a `TypeError` rather than silently ignored.
 *
 * @module
 */

import { withCode } from "../../errors.ts";
import {
  alt,
  charSet,
  type CodeRanges,
  EMPTY,
  intersectRanges,
  literal,
  MAX_CODE_POINT,
  NOTHING,
  opt,
  type RegexNode,
  rep,
  seq,
} from "./regex_ast.ts";
import { parseRegex } from "./regex_parser.ts";

/** How deep free-form JSON (a schema of `{}`) may nest. */
export const ANY_DEPTH = 2;
/** How many times one `$ref` may be entered on one path before the branch is dropped. */
export const MAX_REF_DEPTH = 3;
/** Digits of an integer part / fraction. */
const MAX_DIGITS = 15;

type Schema = Record<string, unknown> | boolean;

function unsupported(path: string, what: string): never {
  throw withCode(
    new TypeError(`schema at ${path || "/"}: ${what}; constrained decoding cannot enforce it`),
    "E_USAGE",
  );
}

/** Characters allowed raw inside a JSON string (no quote, backslash or control). */
const RAW: CodeRanges = [[0x20, 0x21], [0x23, 0x5b], [0x5d, MAX_CODE_POINT]];
const RAW_BMP: CodeRanges = [[0x20, 0x21], [0x23, 0x5b], [0x5d, 0xffff]];
const ESCAPE = seq([
  literal("\\"),
  charSet([...'"\\/bfnrt'].map((c) => [c.charCodeAt(0), c.charCodeAt(0)])),
]);
const DIGIT = charSet([[0x30, 0x39]]);
const NONZERO = charSet([[0x31, 0x39]]);
const QUOTE = literal('"');

function jsonChar(bmp: boolean): RegexNode {
  return alt([charSet(bmp ? RAW_BMP : RAW), ESCAPE]);
}

/** Keeps only raw-safe characters in every set of a pattern tree. */
function restrictSets(node: RegexNode, ranges: CodeRanges): RegexNode {
  switch (node.type) {
    case "set":
      return { type: "set", ranges: intersectRanges(node.ranges, ranges) };
    case "seq":
      return { type: "seq", items: node.items.map((n) => restrictSets(n, ranges)) };
    case "alt":
      return { type: "alt", items: node.items.map((n) => restrictSets(n, ranges)) };
    case "rep":
      return { ...node, item: restrictSets(node.item, ranges) };
  }
}

function jsonString(s: Record<string, unknown>, path: string): RegexNode {
  const min = nonNegInt(s.minLength, `${path}/minLength`) ?? 0;
  const max = nonNegInt(s.maxLength, `${path}/maxLength`) ?? Infinity;
  if (max < min) unsupported(path, `maxLength ${max} is below minLength ${min}`);
  if (typeof s.pattern === "string") {
    const src = s.pattern;
    const tree = restrictSets(parseRegex(src), RAW);
    const filler = rep(charSet(RAW), 0, Infinity);
    const anchoredStart = src.startsWith("^");
    const anchoredEnd = src.endsWith("$") && !src.endsWith("\\$");
    return seq([
      QUOTE,
      anchoredStart ? EMPTY : filler,
      tree,
      anchoredEnd ? EMPTY : filler,
      QUOTE,
    ]);
  }
  const bounded = s.minLength !== undefined || s.maxLength !== undefined;
  return seq([QUOTE, rep(jsonChar(bounded), min, max), QUOTE]);
}

function nonNegInt(v: unknown, path: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    unsupported(path, `${JSON.stringify(v)} is not a whole number >= 0`);
  }
  return v;
}

/** Decimal strings of the whole numbers in [lo, hi] (hi null = up to MAX_DIGITS digits). */
function uintRange(lo: bigint, hi: bigint | null): RegexNode {
  const items: RegexNode[] = [];
  const loLen = lo.toString().length;
  const hiLen = hi === null ? MAX_DIGITS : Math.min(hi.toString().length, MAX_DIGITS);
  for (let L = loLen; L <= hiLen; L++) {
    const a = L === loLen ? lo : 10n ** BigInt(L - 1);
    let b = 10n ** BigInt(L) - 1n;
    if (hi !== null && hi < b) b = hi;
    if (a <= b) items.push(sameLength(a.toString().padStart(L, "0"), b.toString()));
  }
  return alt(items);
}

function sameLength(a: string, b: string): RegexNode {
  if (a.length === 0) return EMPTY;
  const d0 = a.charCodeAt(0), d1 = b.charCodeAt(0);
  const restA = a.slice(1), restB = b.slice(1);
  if (d0 === d1) return seq([charSet([[d0, d0]]), sameLength(restA, restB)]);
  const lowFull = /^0*$/.test(restA), highFull = /^9*$/.test(restB);
  const parts: RegexNode[] = [];
  if (!lowFull) parts.push(seq([charSet([[d0, d0]]), sameLength(restA, "9".repeat(restA.length))]));
  const from = lowFull ? d0 : d0 + 1, to = highFull ? d1 : d1 - 1;
  if (from <= to) parts.push(seq([charSet([[from, to]]), rep(DIGIT, restA.length, restA.length)]));
  if (!highFull) {
    parts.push(seq([charSet([[d1, d1]]), sameLength("0".repeat(restB.length), restB)]));
  }
  return alt(parts);
}

const FRACTION = seq([literal("."), rep(DIGIT, 1, MAX_DIGITS)]);

interface Bounds {
  lo: number; // -Infinity when none
  hi: number; // Infinity when none
}

function bounds(s: Record<string, unknown>, path: string): Bounds {
  let lo = -Infinity, hi = Infinity;
  const num = (v: unknown, key: string) => {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      unsupported(`${path}/${key}`, `${JSON.stringify(v)} is not a finite number`);
    }
    return v;
  };
  if (s.minimum !== undefined) {
    const m = num(s.minimum, "minimum");
    if (s.exclusiveMinimum === true) lo = Math.floor(m) + 1;
    else lo = Math.ceil(m);
  }
  if (s.maximum !== undefined) {
    const m = num(s.maximum, "maximum");
    if (s.exclusiveMaximum === true) hi = Math.ceil(m) - 1;
    else hi = Math.floor(m);
  }
  if (typeof s.exclusiveMinimum === "number") {
    lo = Math.max(lo, Math.floor(num(s.exclusiveMinimum, "exclusiveMinimum")) + 1);
  }
  if (typeof s.exclusiveMaximum === "number") {
    hi = Math.min(hi, Math.ceil(num(s.exclusiveMaximum, "exclusiveMaximum")) - 1);
  }
  return { lo, hi };
}

const big = (x: number) => BigInt(x);

/** Numbers whose magnitude m satisfies lo <= m <= hi (whole-number bounds, lo >= 0). */
function magnitude(lo: number, hi: number, integer: boolean): RegexNode {
  const H = hi === Infinity ? null : big(hi);
  if (integer) return uintRange(big(lo), H);
  const parts: RegexNode[] = [];
  // n.fff stays below n + 1, so a fraction is allowed when n + 1 <= hi
  if (H === null || big(lo) <= H - 1n) {
    parts.push(seq([uintRange(big(lo), H === null ? null : H - 1n), opt(FRACTION)]));
  }
  if (H !== null && H >= big(lo)) parts.push(uintRange(H, H));
  return alt(parts);
}

function jsonNumber(s: Record<string, unknown>, path: string, integer: boolean): RegexNode {
  if (s.multipleOf !== undefined) unsupported(path, "multipleOf is not supported");
  const { lo, hi } = bounds(s, path);
  if (lo > hi) unsupported(path, `no ${integer ? "integer" : "number"} lies in [${lo}, ${hi}]`);
  const parts: RegexNode[] = [];
  if (hi >= 0) parts.push(magnitude(Math.max(lo, 0), hi, integer));
  if (lo < 0) {
    // -m with m in [max(-hi, 1), -lo]; -0 is left out (0 itself comes from the branch above)
    parts.push(seq([literal("-"), magnitude(Math.max(hi < 0 ? -hi : 1, 1), -lo, integer)]));
    if (!integer && hi >= 0) {
      // -0.fff: between -1 and 0
      parts.push(seq([literal("-0"), FRACTION]));
    }
  }
  return alt(parts);
}

const json = JSON.stringify;

/** Compact JSON of any value nested at most `depth` levels. */
export function anyJson(depth: number = ANY_DEPTH): RegexNode {
  const string = seq([QUOTE, rep(jsonChar(false), 0, Infinity), QUOTE]);
  const number = seq([
    opt(literal("-")),
    alt([literal("0"), seq([NONZERO, rep(DIGIT, 0, MAX_DIGITS - 1)])]),
    opt(FRACTION),
  ]);
  const scalars = [string, number, literal("true"), literal("false"), literal("null")];
  if (depth <= 0) return alt(scalars);
  const inner = anyJson(depth - 1);
  const member = seq([string, literal(":"), inner]);
  return alt([
    ...scalars,
    seq([
      literal("{"),
      opt(seq([member, rep(seq([literal(","), member]), 0, Infinity)])),
      literal("}"),
    ]),
    seq([
      literal("["),
      opt(seq([inner, rep(seq([literal(","), inner]), 0, Infinity)])),
      literal("]"),
    ]),
  ]);
}

/** Compiler state: the root (for `$ref`) and how often each ref is open on the current path. */
class SchemaCompiler {
  #root: Record<string, unknown>;
  #open = new Map<string, number>();
  constructor(root: Record<string, unknown>) {
    this.#root = root;
  }

  compile(schema: Schema, path: string): RegexNode {
    if (schema === true) return anyJson();
    if (schema === false) return NOTHING;
    if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
      unsupported(path, `${json(schema)} is not a schema object or boolean`);
    }
    const s = schema as Record<string, unknown>;
    for (const k of ["not", "if", "then", "else", "patternProperties", "uniqueItems", "contains"]) {
      if (s[k] !== undefined && !(k === "uniqueItems" && s[k] === false)) {
        unsupported(path, `the keyword ${k} is not supported`);
      }
    }
    if (typeof s.$ref === "string") return this.#ref(s.$ref, path);
    if (s.const !== undefined) return literal(json(s.const));
    if (Array.isArray(s.enum)) return alt(s.enum.map((v) => literal(json(v))));
    if (Array.isArray(s.allOf)) {
      if (s.allOf.length !== 1) {
        unsupported(path, "allOf with more than one schema is not supported");
      }
      return this.compile({ ...s, allOf: undefined, ...s.allOf[0] as object }, path);
    }
    const union = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : null;
    if (union) {
      const rest = { ...s, anyOf: undefined, oneOf: undefined };
      const shared = Object.values(rest).some((v) => v !== undefined) && s.type !== undefined;
      return alt(
        union.map((sub, i) =>
          this.compile(
            shared ? { ...rest, ...(sub as object) } : sub as Schema,
            `${path}/anyOf/${i}`,
          )
        ),
      );
    }
    if (Array.isArray(s.type)) {
      return alt(s.type.map((t) => this.compile({ ...s, type: t }, path)));
    }
    switch (s.type) {
      case "string":
        return jsonString(s, path);
      case "number":
        return jsonNumber(s, path, false);
      case "integer":
        return jsonNumber(s, path, true);
      case "boolean":
        return alt([literal("true"), literal("false")]);
      case "null":
        return literal("null");
      case "array":
        return this.#array(s, path);
      case "object":
        return this.#object(s, path);
      case undefined:
        if (s.properties !== undefined || s.additionalProperties !== undefined) {
          return this.#object(s, path);
        }
        if (s.items !== undefined || s.prefixItems !== undefined) return this.#array(s, path);
        return anyJson();
      default:
        return unsupported(path, `type ${json(s.type)} is unknown`);
    }
  }

  #ref(ref: string, path: string): RegexNode {
    if (!ref.startsWith("#")) unsupported(path, `$ref ${ref} points outside the schema`);
    const count = this.#open.get(ref) ?? 0;
    if (count >= MAX_REF_DEPTH) return NOTHING; // recursion cut: this branch is dropped
    let target: unknown = this.#root;
    for (const part of ref.slice(1).split("/").filter((p) => p !== "")) {
      const key = decodeURIComponent(part).replace(/~1/g, "/").replace(/~0/g, "~");
      target = (target as Record<string, unknown> | undefined)?.[key];
    }
    if (target === undefined) unsupported(path, `$ref ${ref} does not resolve`);
    this.#open.set(ref, count + 1);
    try {
      return this.compile(target as Schema, ref);
    } finally {
      this.#open.set(ref, count);
    }
  }

  #array(s: Record<string, unknown>, path: string): RegexNode {
    const min = nonNegInt(s.minItems, `${path}/minItems`) ?? 0;
    const max = nonNegInt(s.maxItems, `${path}/maxItems`) ?? Infinity;
    const prefix = Array.isArray(s.prefixItems) ? s.prefixItems as Schema[] : [];
    const items: RegexNode = s.items === undefined
      ? (prefix.length > 0 ? anyJson() : anyJson())
      : this.compile(s.items as Schema, `${path}/items`);
    // element k (0-based) is prefix[k] while k < prefix.length, then `items`
    const nodes = prefix.map((p, k) => this.compile(p, `${path}/prefixItems/${k}`));
    const elem = (k: number) => k < nodes.length ? nodes[k] : items;
    const comma = literal(",");
    // lists of length n in [min, max]: the first prefix elements one by one, then repetitions
    const lists: RegexNode[] = [];
    const upto = Math.min(max, nodes.length);
    // lengths 0..upto built explicitly
    for (let n = min === 0 ? 0 : 1; n <= upto; n++) {
      if (n < min) continue;
      const parts: RegexNode[] = [];
      for (let k = 0; k < n; k++) parts.push(...(k > 0 ? [comma] : []), elem(k));
      lists.push(seq(parts));
    }
    if (max > nodes.length) {
      // at least nodes.length + 1 elements: all prefixes, then items repeated
      const head: RegexNode[] = [];
      for (let k = 0; k < nodes.length; k++) head.push(...(k > 0 ? [comma] : []), nodes[k]);
      const extraMin = Math.max(min - nodes.length, 1);
      const extraMax = max - nodes.length;
      const tail = nodes.length === 0
        ? seq([items, rep(seq([comma, items]), extraMin - 1, extraMax - 1)])
        : seq([comma, items, rep(seq([comma, items]), extraMin - 1, extraMax - 1)]);
      lists.push(seq([...head, tail]));
    }
    return seq([literal("["), alt(lists), literal("]")]);
  }

  #object(s: Record<string, unknown>, path: string): RegexNode {
    const props = (s.properties ?? {}) as Record<string, Schema>;
    const names = Object.keys(props);
    const required = new Set(Array.isArray(s.required) ? s.required as string[] : []);
    for (const r of required) {
      if (!(r in props)) {
        unsupported(path, `required property ${json(r)} has no schema in properties`);
      }
    }
    if (names.length === 0) {
      const extra = s.additionalProperties;
      if (extra === false) return literal("{}");
      const value = extra === undefined || extra === true
        ? anyJson(ANY_DEPTH - 1)
        : this.compile(extra as Schema, `${path}/additionalProperties`);
      const key = seq([QUOTE, rep(jsonChar(false), 0, Infinity), QUOTE]);
      const member = seq([key, literal(":"), value]);
      const min = nonNegInt(s.minProperties, `${path}/minProperties`) ?? 0;
      if (min > 1) unsupported(path, "minProperties above 1 needs distinct keys");
      const members = seq([member, rep(seq([literal(","), member]), 0, Infinity)]);
      return seq([literal("{"), min === 0 ? opt(members) : members, literal("}")]);
    }
    const member = names.map((n) =>
      seq([literal(json(n)), literal(":"), this.compile(props[n], `${path}/properties/${n}`)])
    );
    const comma = literal(",");
    // tail(j): the members after j, each preceded by a comma, optional ones optional
    const tail = (j: number): RegexNode[] =>
      names.slice(j + 1).map((n, k) => {
        const m = seq([comma, member[j + 1 + k]]);
        return required.has(n) ? m : opt(m);
      });
    const bodies: RegexNode[] = [];
    // the first member written is j: every member before it must be optional
    for (let j = 0; j < names.length; j++) {
      bodies.push(seq([member[j], ...tail(j)]));
      if (required.has(names[j])) break;
    }
    if (![...required].length) bodies.push(EMPTY);
    return seq([literal("{"), alt(bodies), literal("}")]);
  }
}

/**
 * Compiles a JSON Schema to a regex tree of compact JSON texts that validate against it.
 * Throws a `TypeError` (code `E_USAGE`) for keywords it cannot enforce.
 *
 * @example
 * ```ts
 * import { schemaToRegex } from "./json_schema.ts";
 * import { compileDfa } from "./byte_dfa.ts";
 * import { acceptsText } from "./automaton.ts";
 * const dfa = compileDfa(schemaToRegex({
 *   type: "object",
 *   properties: { ok: { type: "boolean" } },
 *   required: ["ok"],
 * }));
 * console.log(acceptsText(dfa, '{"ok":true}')); // true
 * ```
 */
export function schemaToRegex(schema: Record<string, unknown> | boolean): RegexNode {
  const root = typeof schema === "object" && schema !== null ? schema : {};
  return new SchemaCompiler(root).compile(schema, "");
}
