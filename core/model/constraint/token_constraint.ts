/**
 * {@link TokenConstraint}: turns a byte automaton into the sampler's `allowedTokens` hook. At each
 * step it allows a token when the token's bytes keep the automaton alive *and* the output can
 * still be completed within the tokens left, and it allows EOS only when the output so far is
 * complete. So with any logits, every sampled output satisfies the constraint when the budget
 * allows one at all, and no step mid-generation is ever left without an allowed token.
 *
 * Budget rule. Let R be the tokens left including this one. A token is allowed when the state
 * after it can reach acceptance in R − 1 more tokens. "Can reach" uses the fewest bytes to
 * acceptance (each byte is a token by itself in byte-level and byte-fallback vocabularies) and,
 * when that bound is too loose for the budget, the exact fewest tokens, found by a breadth-first
 * search over token transitions (DFA constraints only, capped; past the cap the byte bound
 * decides). Strings, arrays and free-form JSON are thus closed in time instead of running out:
 * a string is cut short by the remaining budget, never left open. When the budget ends exactly on
 * a complete output there is no room for EOS: the text is complete and the finish reason is
 * "length".
 *
 * Per-row state is kept from step to step (rows are told apart by `row` and checked against the
 * tokens generated so far, so one hook may serve several generations in turn); DFA constraints
 * cache, per state, the tokens that lead somewhere and where they lead.
 *
 * @module
 */

import { withCode } from "../../errors.ts";
import type { AllowedTokens, MaskContext } from "../sampling.ts";
import type { ByteAutomaton } from "./automaton.ts";
import { type TokenTable, walkTokens } from "./token_table.ts";

/** The sampler hook: token ids allowed at a step (see `SamplingOptions.allowedTokens`). */
export type AllowedTokensHook = (step: number, context: MaskContext) => AllowedTokens | null;

/** Options of {@link TokenConstraint}. */
export interface TokenConstraintOptions {
  /** The generation's token budget (must equal the `maxNewTokens` the generation runs with). */
  maxTokens: number;
  /** Ids that end a completion (the decoder's EOS ids). */
  eosTokenIds: readonly number[];
}

/** Most states one exact token-distance search may expand. */
const SEARCH_CAP = 256;

interface Transitions<S> {
  ids: Int32Array;
  /** The state after each token. */
  states: S[];
  /** Largest minBytes among the next states. */
  maxNeed: number;
  /** ids (+ EOS when accepting) when the budget does not bind. */
  all: Int32Array;
}

/** Mask caches per automaton and token table, shared by every constraint built on them. */
// deno-lint-ignore no-explicit-any
type Caches = { trans: Map<number, Transitions<any>>; dist: Map<number, number> };
const shared = new WeakMap<object, WeakMap<TokenTable, Caches>>();

/**
 * A constraint over a tokenizer's tokens.
 *
 * @example
 * ```ts
 * import { TokenConstraint } from "./token_constraint.ts";
 * import { compileChoices } from "./byte_dfa.ts";
 * import { tokenTable } from "./token_table.ts";
 * import { loadTokenizer } from "../tokenizer.ts";
 * const tok = await loadTokenizer("./models/tiny");
 * const c = new TokenConstraint(compileChoices(["yes", "no"]), tokenTable(tok), {
 *   maxTokens: 8,
 *   eosTokenIds: tok.eosTokenIds,
 * });
 * // generate(model, prompts, { maxNewTokens: 8, allowedTokens: c.allowedTokens })
 * console.log(c.allowedAt([]).length > 0); // true
 * ```
 */
export class TokenConstraint<S> {
  readonly #a: ByteAutomaton<S>;
  readonly #table: TokenTable;
  readonly #max: number;
  readonly #eos: Int32Array;
  readonly #trans: Map<number, Transitions<S>> | null;
  readonly #dist: Map<number, number> | null;
  readonly #rows = new Map<number, { tokens: number[]; state: S }>();

  constructor(automaton: ByteAutomaton<S>, table: TokenTable, options: TokenConstraintOptions) {
    const { maxTokens, eosTokenIds } = options;
    if (!Number.isInteger(maxTokens) || maxTokens < 1) {
      throw withCode(
        new RangeError(`maxTokens is ${maxTokens}; pass a whole number >= 1`),
        "E_USAGE",
      );
    }
    if (!eosTokenIds || eosTokenIds.length === 0) {
      throw withCode(
        new TypeError("eosTokenIds is empty; a constrained completion needs an EOS id to end on"),
        "E_USAGE",
      );
    }
    this.#a = automaton;
    this.#table = table;
    this.#max = maxTokens;
    this.#eos = Int32Array.from(new Set(eosTokenIds));
    if (automaton.key) {
      let perTable = shared.get(automaton);
      if (!perTable) shared.set(automaton, perTable = new WeakMap());
      let c = perTable.get(table);
      if (!c) perTable.set(table, c = { trans: new Map(), dist: new Map() });
      this.#trans = c.trans;
      this.#dist = c.dist;
    } else {
      this.#trans = null;
      this.#dist = null;
    }
    const need = this.#exactNeed(automaton.start, true);
    if (need !== undefined && need > maxTokens) {
      throw withCode(
        new RangeError(
          `max_tokens is ${maxTokens} but the shortest output that satisfies the constraint ` +
            `takes ${need} tokens; raise max_tokens to at least ${need}`,
        ),
        "E_LIMIT",
      );
    }
  }

  /** The hook to pass as `allowedTokens` (bound; safe to hand around). */
  readonly allowedTokens: AllowedTokensHook = (_step, context) => {
    const state = this.#rowState(context.row, context.generated);
    return this.#allowed(
      state,
      this.#max - context.generated.length,
      context.generated.length === 0,
    );
  };

  /**
   * The ids allowed after `generated` (EOS included when the output is complete).
   *
   * @example
   * ```ts
   * import type { TokenConstraint } from "./token_constraint.ts";
   * declare const c: TokenConstraint<number>;
   * const first = c.allowedAt([]);
   * ```
   */
  allowedAt(generated: readonly number[]): Int32Array {
    const s = this.stateAfter(generated);
    if (s === null) {
      throw withCode(
        new RangeError("the tokens given already break the constraint; nothing can follow them"),
        "E_USAGE",
      );
    }
    return this.#allowed(s, this.#max - generated.length, generated.length === 0);
  }

  /**
   * The automaton state after `tokens` (EOS ids ignored), or null when they break the constraint.
   *
   * @example
   * ```ts
   * import type { TokenConstraint } from "./token_constraint.ts";
   * declare const c: TokenConstraint<number>;
   * console.log(c.stateAfter([]) !== null); // true
   * ```
   */
  stateAfter(tokens: readonly number[]): S | null {
    let s: S | null = this.#a.start;
    for (let i = 0; i < tokens.length && s !== null; i++) s = this.#advance(s, tokens[i], i === 0);
    return s;
  }

  /**
   * Whether `tokens` form a complete output (EOS may end it).
   *
   * @example
   * ```ts
   * import type { TokenConstraint } from "./token_constraint.ts";
   * declare const c: TokenConstraint<number>;
   * console.log(c.isComplete([])); // false unless the empty output satisfies the constraint
   * ```
   */
  isComplete(tokens: readonly number[]): boolean {
    const s = this.stateAfter(tokens);
    return s !== null && this.#a.accepting(s);
  }

  #advance(s: S, token: number, first: boolean): S | null {
    if (this.#eos.includes(token)) return s;
    const bytes = this.#table.bytes[token];
    if (!bytes) return null;
    let i = 0;
    if (first && this.#table.stripsLeadingSpace && bytes[0] === 0x20) i = 1;
    let cur: S | null = s;
    for (; i < bytes.length && cur !== null; i++) cur = this.#a.step(cur, bytes[i]);
    return cur;
  }

  #rowState(row: number, generated: readonly number[]): S {
    let rec = this.#rows.get(row);
    const extends_ = rec !== undefined && rec.tokens.length <= generated.length &&
      rec.tokens.every((t, i) => generated[i] === t);
    if (!rec || !extends_) {
      rec = { tokens: [], state: this.#a.start };
      this.#rows.set(row, rec);
    }
    for (let i = rec.tokens.length; i < generated.length; i++) {
      const next = this.#advance(rec.state, generated[i], i === 0);
      if (next === null) {
        throw withCode(
          new RangeError(
            `row ${row}: token ${generated[i]} at position ${i} breaks the constraint; ` +
              `pass the constraint's allowedTokens to the sampler that chose it`,
          ),
          "E_USAGE",
        );
      }
      rec.state = next;
      rec.tokens.push(generated[i]);
    }
    return rec.state;
  }

  /** Token transitions of a state: cached for keyed automata, else computed afresh. */
  #transitions(s: S, first: boolean): Transitions<S> {
    const key = this.#a.key && !(first && this.#table.stripsLeadingSpace) ? this.#a.key(s) : -1;
    if (key >= 0) {
      const hit = this.#trans!.get(key);
      if (hit) return hit;
    }
    const ids: number[] = [];
    const states: S[] = [];
    let maxNeed = 0;
    walkTokens(this.#table, this.#a, s, (id, n) => {
      ids.push(id);
      states.push(n);
      maxNeed = Math.max(maxNeed, this.#a.minBytes(n));
    }, first && this.#table.stripsLeadingSpace);
    const t: Transitions<S> = {
      ids: Int32Array.from(ids),
      states,
      maxNeed,
      all: Int32Array.from(this.#a.accepting(s) ? [...ids, ...this.#eos] : ids),
    };
    if (key >= 0) this.#trans!.set(key, t);
    return t;
  }

  /**
   * The fewest tokens from `s` to acceptance when it can be known exactly, else undefined.
   * Byte counts bound token counts from above when every byte is a token.
   */
  #exactNeed(s: S, first = false): number | undefined {
    const bytes = this.#a.minBytes(s);
    const keyOf = this.#a.key?.bind(this.#a);
    if (!keyOf) return this.#table.coversAllBytes ? bytes : undefined;
    const key = keyOf(s);
    if (!first) {
      const hit = this.#dist!.get(key);
      if (hit !== undefined) return hit;
    }
    // breadth-first over token transitions
    let frontier: S[] = [s];
    const seen = new Set<number>([key]);
    let expanded = 0;
    for (let d = 0; frontier.length > 0; d++) {
      if (frontier.some((x) => this.#a.accepting(x))) {
        if (!first) this.#dist!.set(key, d);
        return d;
      }
      const next: S[] = [];
      for (const x of frontier) {
        if (++expanded > SEARCH_CAP) return undefined;
        for (const n of this.#transitions(x, first && d === 0).states) {
          const k = keyOf(n);
          if (seen.has(k)) continue;
          seen.add(k);
          next.push(n);
        }
      }
      frontier = next;
    }
    return undefined; // unreachable with the tokens of this vocabulary
  }

  #fits(s: S, budget: number): boolean {
    const bytes = this.#a.minBytes(s);
    if (this.#table.coversAllBytes && bytes <= budget) return true;
    if (this.#a.key) {
      const d = this.#exactNeed(s);
      if (d !== undefined) return d <= budget;
    }
    return this.#table.coversAllBytes ? false : bytes <= budget;
  }

  #allowed(s: S, remaining: number, first: boolean): Int32Array {
    const R = Math.max(1, remaining);
    const t = this.#transitions(s, first);
    if (this.#table.coversAllBytes && t.maxNeed <= R - 1) return t.all;
    const out: number[] = this.#a.accepting(s) ? [...this.#eos] : [];
    for (let i = 0; i < t.ids.length; i++) {
      if (this.#fits(t.states[i], R - 1)) out.push(t.ids[i]);
    }
    if (out.length === 0) {
      // The budget cannot be met (max_tokens below what the output needs, or a vocabulary
      // without single-byte tokens): head for completion by the fewest bytes, never stall.
      let best = Infinity;
      for (const n of t.states) best = Math.min(best, this.#a.minBytes(n));
      t.states.forEach((n, i) => {
        if (this.#a.minBytes(n) === best) out.push(t.ids[i]);
      });
    }
    return Int32Array.from(out);
  }
}
