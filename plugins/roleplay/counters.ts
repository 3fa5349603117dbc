/**
 * Run-level counters of LLM Roleplay (the reference run's tracked parameters).
 *
 * @module
 */

/** Counters accumulated over a run. */
export interface RoleplayCounters {
  /** Dialogues ended because the inquirer's output held no quoted prompt. */
  num_no_prompts: number;
  /** Inquirer outputs with more than one quoted span. */
  num_multiple_prompts: number;
  /** Dialogues ended because the inquirer started repeating itself. */
  num_non_coherent: number;
  /** Dialogues ended because the responder started repeating itself. */
  num_non_coherent_model_responder: number;
  /** Responder outputs cut at a self-reply marker (raw-completion models). */
  num_self_replies: number;
  /** Regenerations that produced a prompt after a failed attempt. */
  num_regenerate_worked: number;
}

/** The counter names, in the reference order. */
export const COUNTER_NAMES: readonly (keyof RoleplayCounters)[] = [
  "num_no_prompts",
  "num_multiple_prompts",
  "num_non_coherent",
  "num_regenerate_worked",
  "num_self_replies",
  "num_non_coherent_model_responder",
];

/**
 * Fresh counters, all zero.
 *
 * @example
 * ```ts
 * import { newCounters } from "./counters.ts";
 * const c = newCounters();
 * c.num_no_prompts++;
 * ```
 */
export function newCounters(): RoleplayCounters {
  return {
    num_no_prompts: 0,
    num_multiple_prompts: 0,
    num_non_coherent: 0,
    num_regenerate_worked: 0,
    num_self_replies: 0,
    num_non_coherent_model_responder: 0,
  };
}

/**
 * Adds `b` into `a` and returns `a` (to total counters over many dialogues).
 *
 * @example
 * ```ts
 * import { addCounters, newCounters } from "./counters.ts";
 * const total = addCounters(newCounters(), { ...newCounters(), num_no_prompts: 2 });
 * console.log(total.num_no_prompts); // 2
 * ```
 */
export function addCounters(a: RoleplayCounters, b: RoleplayCounters): RoleplayCounters {
  for (const k of COUNTER_NAMES) a[k] += b[k];
  return a;
}

/**
 * Cuts a raw continuation at the first marker where a completion model starts writing the other
 * side's turn (`[INST`, `### Human:`). Returns the kept text and whether a cut happened.
 *
 * @example
 * ```ts
 * import { cutSelfReply } from "./counters.ts";
 * cutSelfReply("Sure. [INST] thanks [/INST]"); // { text: "Sure. ", cut: true }
 * ```
 */
export function cutSelfReply(
  text: string,
  markers: readonly string[] = ["[INST", "### Human:"],
): { text: string; cut: boolean } {
  let at = -1;
  for (const m of markers) {
    const i = text.indexOf(m);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at < 0 ? { text, cut: false } : { text: text.slice(0, at), cut: true };
}
