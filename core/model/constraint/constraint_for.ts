/**
 * {@link constraintFor}: the one entry point from a chat request to the sampler's
 * `allowedTokens` hook. `response_format` `json_schema` compiles the schema to a byte DFA,
 * `json_object` uses the JSON pushdown automaton, and the Dramatis extra `constraint` takes
 * `{choices}` or `{regex}`. Compiled automata are cached by their source, so repeated requests
 * with one schema reuse the automaton and its per-state token masks.
 *
 * @module
 */

import type { ChatRequest } from "../../contracts/chat_model.ts";
import { withCode } from "../../errors.ts";
import type { ByteAutomaton } from "./automaton.ts";
import { compileChoices, compileDfa, compileRegex } from "./byte_dfa.ts";
import { JsonObjectAutomaton } from "./json_object.ts";
import { schemaToRegex } from "./json_schema.ts";
import { type AllowedTokensHook, TokenConstraint } from "./token_constraint.ts";
import { type TokenSource, tokenTable } from "./token_table.ts";
import { checkTime, currentBudget, overBudget } from "./budget.ts";

/**
 * Refuses a JSON schema over the budget's depth, node, enum and property limits, walking it
 * with an explicit stack (a schema nested 20,000 deep cannot overflow anything).
 *
 * @example
 * ```ts
 * import { checkSchemaSize } from "./constraint_for.ts";
 * checkSchemaSize({ type: "object", properties: { a: { type: "string" } } });
 * ```
 */
export function checkSchemaSize(schema: unknown): void {
  const b = currentBudget();
  let nodes = 0;
  const stack: [unknown, number][] = [[schema, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    checkTime();
    if (depth > b.maxSchemaDepth) {
      throw overBudget("maxSchemaDepth", `the schema nests deeper than ${b.maxSchemaDepth} levels`);
    }
    if (++nodes > b.maxSchemaNodes) {
      throw overBudget("maxSchemaNodes", `the schema has more than ${b.maxSchemaNodes} objects`);
    }
    const o = v as Record<string, unknown>;
    if (!Array.isArray(v)) {
      if (Array.isArray(o.enum) && o.enum.length > b.maxChoices) {
        throw overBudget("maxChoices", `an enum has ${o.enum.length} values`);
      }
      for (const key of ["properties", "$defs", "definitions"]) {
        const props = o[key];
        if (props && typeof props === "object" && Object.keys(props).length > b.maxProperties) {
          throw overBudget("maxProperties", `${key} has ${Object.keys(props).length} entries`);
        }
      }
      for (const key of ["prefixItems", "anyOf", "oneOf"]) {
        const list = o[key];
        if (Array.isArray(list) && list.length > b.maxProperties) {
          throw overBudget("maxProperties", `${key} has ${list.length} entries`);
        }
      }
    }
    for (const child of Object.values(o)) stack.push([child, depth + 1]);
  }
}

/**
 * The cache key of a request's constraint (null: no constraint to compile), the key under
 * which {@link automatonFor} keeps the compiled automaton.
 *
 * @example
 * ```ts
 * import { constraintKey } from "./constraint_for.ts";
 * console.log(constraintKey({ constraint: { regex: "a+" } })); // "regex:a+"
 * ```
 */
export function constraintKey(request: ConstrainedRequest): string | null {
  const rf = request.response_format;
  const c = request.constraint;
  if (rf !== undefined && rf.type === "json_schema") {
    return `schema:${JSON.stringify(rf.json_schema?.schema)}`;
  }
  if (rf !== undefined && rf.type !== "text") return null;
  if (c && typeof c === "object" && "choices" in c) return `choices:${JSON.stringify(c.choices)}`;
  if (c && typeof c === "object" && "regex" in c) return `regex:${c.regex}`;
  return null;
}

/**
 * Whether a constraint's automaton is compiled and cached already.
 *
 * @example
 * ```ts
 * import { isCompiled } from "./constraint_for.ts";
 * console.log(isCompiled("regex:never-seen")); // false
 * ```
 */
export function isCompiled(key: string): boolean {
  return compiled.has(key);
}

/**
 * Puts an automaton compiled elsewhere (a Worker) into the cache under its key.
 *
 * @example
 * ```ts
 * import { cacheAutomaton } from "./constraint_for.ts";
 * import { compileRegex } from "./byte_dfa.ts";
 * cacheAutomaton("regex:a+", compileRegex("a+"));
 * ```
 */
// deno-lint-ignore no-explicit-any
export function cacheAutomaton(key: string, automaton: ByteAutomaton<any>): void {
  cached(key, () => automaton);
}

/** Options of {@link constraintFor}. */
export interface ConstraintForOptions {
  /**
   * The generation's token budget; it must equal the `maxNewTokens` generation runs with.
   * Default: `request.max_tokens`, else 128 (the generation default).
   */
  maxTokens?: number;
  /** EOS ids; default the tokenizer's. Pass the decoder's (`engine.decoder.eosTokenIds`). */
  eosTokenIds?: readonly number[];
}

/** The request fields a constraint reads. */
export type ConstrainedRequest = Pick<ChatRequest, "response_format" | "constraint" | "max_tokens">;

const CACHE_LIMIT = 64;
// deno-lint-ignore no-explicit-any
const compiled = new Map<string, ByteAutomaton<any>>();

function cached<S>(key: string, build: () => ByteAutomaton<S>): ByteAutomaton<S> {
  let a = compiled.get(key);
  if (a) {
    compiled.delete(key); // re-insert: most recently used last
  } else {
    a = build();
    if (compiled.size >= CACHE_LIMIT) compiled.delete(compiled.keys().next().value!);
  }
  compiled.set(key, a);
  return a;
}

/**
 * The byte automaton of a request's constraint, or null when the request has none.
 * Throws a `TypeError` (code `E_USAGE`) for a malformed or unsupported constraint.
 *
 * @example
 * ```ts
 * import { automatonFor } from "./constraint_for.ts";
 * const a = automatonFor({ constraint: { choices: ["yes", "no"] } });
 * console.log(a !== null); // true
 * ```
 */
// deno-lint-ignore no-explicit-any
export function automatonFor(request: ConstrainedRequest): ByteAutomaton<any> | null {
  const rf = request.response_format;
  const c = request.constraint;
  const structured = rf !== undefined && rf.type !== "text";
  if (structured && c !== undefined) {
    throw withCode(
      new TypeError(
        "the request has both response_format and constraint; pass only one of them",
      ),
      "E_USAGE",
    );
  }
  if (structured) {
    if (rf.type === "json_object") return cached("json_object", () => new JsonObjectAutomaton());
    if (rf.type === "json_schema") {
      const schema = rf.json_schema?.schema;
      if (typeof schema !== "object" || schema === null) {
        throw withCode(
          new TypeError(
            `response_format.json_schema.schema is ${
              JSON.stringify(schema)
            }; pass a JSON Schema object`,
          ),
          "E_USAGE",
        );
      }
      return cached(`schema:${JSON.stringify(schema)}`, () => {
        checkSchemaSize(schema);
        return compileDfa(schemaToRegex(schema));
      });
    }
    throw withCode(
      new TypeError(
        `response_format.type is ${JSON.stringify((rf as { type: unknown }).type)}; use ` +
          `"text", "json_object" or "json_schema"`,
      ),
      "E_USAGE",
    );
  }
  if (c === undefined || c === null) return null;
  if ("choices" in c) {
    return cached(`choices:${JSON.stringify(c.choices)}`, () => compileChoices(c.choices));
  }
  if ("regex" in c) return cached(`regex:${c.regex}`, () => compileRegex(c.regex));
  throw withCode(
    new TypeError(
      `constraint is ${JSON.stringify(c)}; pass {choices: string[]} or {regex: string}`,
    ),
    "E_USAGE",
  );
}

/**
 * The {@link TokenConstraint} of a request over a tokenizer, or null when the request has no
 * constraint. Throws `RangeError` (code `E_LIMIT`) when the budget cannot fit any valid output.
 *
 * @example
 * ```ts
 * import { tokenConstraintFor } from "./constraint_for.ts";
 * import { loadTokenizer } from "../tokenizer.ts";
 * const tok = await loadTokenizer("./models/tiny");
 * const c = tokenConstraintFor({ constraint: { regex: "\\d{3}" }, max_tokens: 8 }, tok);
 * console.log(c?.allowedAt([]).length);
 * ```
 */
export function tokenConstraintFor(
  request: ConstrainedRequest,
  tokenizer: TokenSource & { readonly eosTokenIds?: readonly number[] },
  options: ConstraintForOptions = {},
  // deno-lint-ignore no-explicit-any
): TokenConstraint<any> | null {
  const automaton = automatonFor(request);
  if (automaton === null) return null;
  return new TokenConstraint(automaton, tokenTable(tokenizer), {
    maxTokens: options.maxTokens ?? request.max_tokens ?? 128,
    eosTokenIds: options.eosTokenIds ?? tokenizer.eosTokenIds ?? [],
  });
}

/**
 * The sampler hook for a request: `(step, {row, generated}) → allowed token ids`, or null when
 * the request has no constraint. Pass it as `allowedTokens` with the same `maxNewTokens`.
 *
 * @example
 * ```ts
 * import { constraintFor } from "./constraint_for.ts";
 * import { Engine } from "../engine.ts";
 * const engine = await Engine.load("./models/tiny");
 * const request = {
 *   messages: [{ role: "user" as const, content: "Rate it" }],
 *   max_tokens: 32,
 *   response_format: {
 *     type: "json_schema" as const,
 *     json_schema: { name: "r", schema: { type: "object", properties: { stars: { type: "integer", minimum: 1, maximum: 5 } }, required: ["stars"] } },
 *   },
 * };
 * const allowedTokens = constraintFor(request, engine.tokenizer, {
 *   maxTokens: 32,
 *   eosTokenIds: engine.decoder.eosTokenIds,
 * }) ?? undefined;
 * const r = await engine.generate(request.messages, { maxNewTokens: 32, allowedTokens });
 * console.log(JSON.parse(r.completions[0].text).stars);
 * ```
 */
export function constraintFor(
  request: ConstrainedRequest,
  tokenizer: TokenSource & { readonly eosTokenIds?: readonly number[] },
  options: ConstraintForOptions = {},
): AllowedTokensHook | null {
  return tokenConstraintFor(request, tokenizer, options)?.allowedTokens ?? null;
}
