/**
 * Compiles a regex tree to a deterministic automaton over UTF-8 bytes: code-point sets become
 * byte-range sequences ({@link utf8Sequences}), a Thompson NFA is built, and subset construction
 * runs over byte classes (bytes no edge tells apart share a column). States that cannot reach
 * acceptance are removed, so every transition the DFA keeps leads somewhere completable, and each
 * state knows the fewest bytes to acceptance.
 *
 * @module
 */

import { withCode } from "../../errors.ts";
import type { ByteAutomaton } from "./automaton.ts";
import { alt as altNode, literal, type RegexNode } from "./regex_ast.ts";
import { parseRegex } from "./regex_parser.ts";
import { utf8Sequences } from "./utf8_ranges.ts";
import { checkTime, currentBudget, expandedSize, overBudget } from "./budget.ts";

/** Most DFA states a constraint may need before compiling gives up. */
export const MAX_DFA_STATES = 200_000;

class Nfa {
  eps: number[][] = [];
  edges: { lo: number; hi: number; to: number }[][] = [];
  add(): number {
    if (this.eps.length >= currentBudget().maxExpandedStates) {
      throw overBudget("maxExpandedStates", "the pattern needs more automaton states");
    }
    checkTime();
    this.eps.push([]);
    this.edges.push([]);
    return this.eps.length - 1;
  }
  build(node: RegexNode): [number, number] {
    const s = this.add();
    switch (node.type) {
      case "set": {
        const e = this.add();
        for (const [a, b] of node.ranges) {
          for (const path of utf8Sequences(a, b)) {
            let cur = s;
            path.forEach(([lo, hi], k) => {
              const to = k === path.length - 1 ? e : this.add();
              this.edges[cur].push({ lo, hi, to });
              cur = to;
            });
          }
        }
        return [s, e];
      }
      case "seq": {
        let cur = s;
        for (const item of node.items) {
          const [a, b] = this.build(item);
          this.eps[cur].push(a);
          cur = b;
        }
        return [s, cur];
      }
      case "alt": {
        const e = this.add();
        for (const item of node.items) {
          const [a, b] = this.build(item);
          this.eps[s].push(a);
          this.eps[b].push(e);
        }
        return [s, e];
      }
      case "rep": {
        let cur = s;
        for (let k = 0; k < node.min; k++) {
          const [a, b] = this.build(node.item);
          this.eps[cur].push(a);
          cur = b;
        }
        const e = this.add();
        if (node.max === Infinity) {
          const [a, b] = this.build(node.item);
          this.eps[cur].push(a, e);
          this.eps[b].push(a, e);
        } else {
          this.eps[cur].push(e);
          for (let k = node.min; k < node.max; k++) {
            const [a, b] = this.build(node.item);
            this.eps[cur].push(a);
            this.eps[b].push(e);
            cur = b;
          }
        }
        return [s, e];
      }
    }
  }
}

/** The tables of a compiled {@link ByteDfa} (structured-cloneable). */
export interface DfaTables {
  size: number;
  classOf: Uint8Array;
  classes: number;
  trans: Int32Array;
  accept: Uint8Array;
  min: Int32Array;
}

/**
 * A byte DFA (see the module doc). States are numbers; `start` is 0.
 *
 * @example
 * ```ts
 * import { compileRegex } from "./byte_dfa.ts";
 * import { acceptsText } from "./automaton.ts";
 * const dfa = compileRegex("[a-c]{2}|é");
 * console.log(acceptsText(dfa, "ab"), acceptsText(dfa, "é"), acceptsText(dfa, "a")); // true true false
 * ```
 */
export class ByteDfa implements ByteAutomaton<number> {
  readonly start = 0;
  /** Number of live states. */
  readonly size: number;
  readonly #classOf: Uint8Array;
  readonly #classes: number;
  readonly #trans: Int32Array;
  readonly #accept: Uint8Array;
  readonly #min: Int32Array;

  /** Builds the DFA of a tree (prefer {@link compileDfa}), or rebuilds one from its tables. */
  constructor(tree: RegexNode | DfaTables) {
    if ("trans" in tree) {
      this.size = tree.size;
      this.#classOf = tree.classOf;
      this.#classes = tree.classes;
      this.#trans = tree.trans;
      this.#accept = tree.accept;
      this.#min = tree.min;
      return;
    }
    expandedSize(tree); // refuses an oversized pattern before anything is built
    const maxStates = Math.min(MAX_DFA_STATES, currentBudget().maxDfaStates);
    const nfa = new Nfa();
    const [ns, ne] = nfa.build(tree);
    // Byte classes: bytes that no edge boundary separates behave alike.
    const cut = new Uint8Array(257);
    cut[0] = 1;
    for (const list of nfa.edges) {
      for (const { lo, hi } of list) {
        cut[lo] = 1;
        cut[hi + 1] = 1;
      }
    }
    const classOf = new Uint8Array(256);
    const reps: number[] = [];
    for (let b = 0; b < 256; b++) {
      if (cut[b]) reps.push(b);
      classOf[b] = reps.length - 1;
    }
    const C = reps.length;
    const closure = (seeds: Iterable<number>): number[] => {
      const seen = new Set<number>();
      const stack = [...seeds];
      while (stack.length > 0) {
        checkTime();
        const x = stack.pop()!;
        if (seen.has(x)) continue;
        seen.add(x);
        for (const y of nfa.eps[x]) if (!seen.has(y)) stack.push(y);
      }
      // keep only states that matter: with byte edges, or the final state
      return [...seen].filter((x) => x === ne || nfa.edges[x].length > 0).sort((a, b) => a - b);
    };
    const ids = new Map<string, number>();
    const sets: number[][] = [];
    const intern = (set: number[]): number => {
      const key = set.join(",");
      let id = ids.get(key);
      if (id === undefined) {
        id = sets.length;
        if (id >= maxStates) {
          throw overBudget("maxDfaStates", `the automaton needs more than ${maxStates} states`);
        }
        ids.set(key, id);
        sets.push(set);
      }
      return id;
    };
    intern(closure([ns]));
    let trans = new Int32Array(1024 * C).fill(-1);
    const accept: number[] = [];
    for (let d = 0; d < sets.length; d++) {
      checkTime();
      const set = sets[d];
      accept.push(set.includes(ne) ? 1 : 0);
      if ((d + 1) * C > trans.length) {
        const bigger = new Int32Array(trans.length * 2).fill(-1);
        bigger.set(trans);
        trans = bigger;
      }
      for (let c = 0; c < C; c++) {
        const b = reps[c];
        const next: number[] = [];
        for (const x of set) {
          for (const e of nfa.edges[x]) if (b >= e.lo && b <= e.hi) next.push(e.to);
        }
        if (next.length === 0) continue;
        const to = intern(closure(next));
        if ((to + 1) * C > trans.length) {
          const bigger = new Int32Array(Math.max(trans.length * 2, (to + 1) * C)).fill(-1);
          bigger.set(trans);
          trans = bigger;
        }
        trans[d * C + c] = to;
      }
    }
    const n = sets.length;
    // Fewest bytes to acceptance, by BFS over reversed edges; unreachable = dead.
    const rev: number[][] = Array.from({ length: n }, () => []);
    for (let d = 0; d < n; d++) {
      for (let c = 0; c < C; c++) {
        const t = trans[d * C + c];
        if (t >= 0) rev[t].push(d);
      }
    }
    const min = new Int32Array(n).fill(-1);
    const queue: number[] = [];
    for (let d = 0; d < n; d++) {
      if (accept[d]) {
        min[d] = 0;
        queue.push(d);
      }
    }
    for (let q = 0; q < queue.length; q++) {
      const d = queue[q];
      for (const p of rev[d]) {
        if (min[p] < 0) {
          min[p] = min[d] + 1;
          queue.push(p);
        }
      }
    }
    if (min[0] < 0) {
      throw withCode(
        new RangeError("the constraint matches no output at all; check the pattern or schema"),
        "E_USAGE",
      );
    }
    // Renumber live states (start stays 0) and drop edges into dead ones.
    const renum = new Int32Array(n).fill(-1);
    let live = 0;
    for (let d = 0; d < n; d++) if (min[d] >= 0) renum[d] = live++;
    const t2 = new Int32Array(live * C).fill(-1);
    const acc2 = new Uint8Array(live);
    const min2 = new Int32Array(live);
    for (let d = 0; d < n; d++) {
      const r = renum[d];
      if (r < 0) continue;
      acc2[r] = accept[d];
      min2[r] = min[d];
      for (let c = 0; c < C; c++) {
        const t = trans[d * C + c];
        t2[r * C + c] = t >= 0 ? renum[t] : -1;
      }
    }
    this.size = live;
    this.#classOf = classOf;
    this.#classes = C;
    this.#trans = t2;
    this.#accept = acc2;
    this.#min = min2;
  }

  /** The DFA's tables, to send to another thread (see {@link DfaTables}). */
  tables(): DfaTables {
    return {
      size: this.size,
      classOf: this.#classOf,
      classes: this.#classes,
      trans: this.#trans,
      accept: this.#accept,
      min: this.#min,
    };
  }

  step(state: number, byte: number): number | null {
    const t = this.#trans[state * this.#classes + this.#classOf[byte]];
    return t < 0 ? null : t;
  }

  accepting(state: number): boolean {
    return this.#accept[state] === 1;
  }

  minBytes(state: number): number {
    return this.#min[state];
  }

  key(state: number): number {
    return state;
  }
}

/**
 * Compiles a regex tree to a {@link ByteDfa}.
 *
 * @example
 * ```ts
 * import { compileDfa } from "./byte_dfa.ts";
 * import { literal } from "./regex_ast.ts";
 * const dfa = compileDfa(literal("hi"));
 * console.log(dfa.minBytes(dfa.start)); // 2
 * ```
 */
export function compileDfa(tree: RegexNode): ByteDfa {
  return new ByteDfa(tree);
}

/**
 * Compiles regex source (see regex_parser.ts for the subset) to a {@link ByteDfa} that matches
 * whole outputs.
 *
 * @example
 * ```ts
 * import { compileRegex } from "./byte_dfa.ts";
 * import { acceptsText } from "./automaton.ts";
 * console.log(acceptsText(compileRegex("\\d+(\\.\\d+)?"), "3.14")); // true
 * ```
 */
export function compileRegex(source: string): ByteDfa {
  if (typeof source === "string") {
    let depth = 0;
    let max = 0;
    for (let i = 0; i < source.length; i++) {
      const ch = source[i];
      if (ch === "\\") i++;
      else if (ch === "(") max = Math.max(max, ++depth);
      else if (ch === ")") depth--;
    }
    if (max > currentBudget().maxRegexNesting) {
      throw overBudget("maxRegexNesting", `the regex nests ${max} groups deep`);
    }
  }
  return new ByteDfa(parseRegex(source));
}

/**
 * Compiles a fixed set of choices: the output must equal one of them exactly.
 *
 * @example
 * ```ts
 * import { compileChoices } from "./byte_dfa.ts";
 * import { acceptsText } from "./automaton.ts";
 * console.log(acceptsText(compileChoices(["yes", "no"]), "no")); // true
 * ```
 */
export function compileChoices(choices: readonly string[]): ByteDfa {
  if (!Array.isArray(choices) || choices.length === 0) {
    throw withCode(
      new TypeError(`choices is ${JSON.stringify(choices)}; pass a non-empty array of strings`),
      "E_USAGE",
    );
  }
  if (choices.length > currentBudget().maxChoices) {
    throw overBudget("maxChoices", `there are ${choices.length} choices`);
  }
  choices.forEach((c, i) => {
    if (typeof c !== "string") {
      throw withCode(
        new TypeError(`choices[${i}] is ${typeof c}; every choice must be a string`),
        "E_USAGE",
      );
    }
  });
  return new ByteDfa(altNode(choices.map(literal)));
}
