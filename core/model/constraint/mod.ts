/**
 * Constrained decoding for local models: choices, regexes, JSON Schema and free JSON objects
 * compiled to byte automata, turned into the sampler's `allowedTokens` hook over a tokenizer's
 * tokens. Start with {@link constraintFor}.
 *
 * @example
 * ```ts
 * import { constraintFor } from "./mod.ts";
 * import { loadTokenizer } from "../tokenizer.ts";
 * const tok = await loadTokenizer("./models/tiny");
 * const hook = constraintFor({ constraint: { choices: ["yes", "no"] }, max_tokens: 4 }, tok);
 * // generate(model, prompts, { maxNewTokens: 4, allowedTokens: hook ?? undefined })
 * ```
 *
 * @module
 */

export { acceptsText, type ByteAutomaton, runBytes } from "./automaton.ts";
export {
  ByteDfa,
  compileChoices,
  compileDfa,
  compileRegex,
  type DfaTables,
  MAX_DFA_STATES,
} from "./byte_dfa.ts";
export {
  type CompileBudget,
  currentBudget,
  DEFAULT_BUDGET,
  expandedSize,
  withBudget,
} from "./budget.ts";
export { compileOffThread } from "./compile_off_thread.ts";
export {
  automatonFor,
  type ConstrainedRequest,
  constraintFor,
  type ConstraintForOptions,
  tokenConstraintFor,
} from "./constraint_for.ts";
export { JsonObjectAutomaton, type JsonState } from "./json_object.ts";
export { ANY_DEPTH, anyJson, MAX_REF_DEPTH, schemaToRegex } from "./json_schema.ts";
export {
  alt,
  charSet,
  type CodeRanges,
  EMPTY,
  literal,
  NOTHING,
  opt,
  type RegexNode,
  rep,
  seq,
} from "./regex_ast.ts";
export { MAX_REPEAT, parseRegex } from "./regex_parser.ts";
export {
  type AllowedTokensHook,
  TokenConstraint,
  type TokenConstraintOptions,
} from "./token_constraint.ts";
export { type TokenSource, type TokenTable, tokenTable, walkTokens } from "./token_table.ts";
export { type ByteRange, utf8Sequences } from "./utf8_ranges.ts";
