/**
 * The Llama-2 chat serialization used for training identity experts (spec A3): text segments
 * with a flag telling whether their tokens carry loss. Tokenization is the trainer's job.
 *
 * @module
 */

import type { HisRecord } from "./his_dataset.ts";

/** A text segment; `loss` is true for assistant segments (labels copied) and false for user ones (-100). */
export interface TrainingSegment {
  text: string;
  loss: boolean;
}

/**
 * Serializes a dialogue: the system prompt goes into the first user turn as
 * `<<SYS>> {system} <</SYS>> {user}`; each user turn becomes `<s>[INST] {user} [/INST]` and each
 * assistant turn `{assistant} </s>`; a trailing unpaired user turn is dropped. `<s>`/`</s>` are
 * written as text and must be tokenized as special tokens without adding another BOS.
 *
 * @example
 * ```ts
 * import { llama2TrainingSegments } from "./chat_format.ts";
 * const segs = llama2TrainingSegments({ system: "You are a doctor.", turns: [
 *   { role: "user", content: "Hi" }, { role: "assistant", content: "Hello." }] });
 * console.log(segs[0].text); // "<s>[INST] <<SYS>> You are a doctor. <</SYS>> Hi [/INST]"
 * ```
 */
export function llama2TrainingSegments(
  record: Pick<HisRecord, "system" | "turns">,
  options: { includeSystem?: boolean } = {},
): TrainingSegment[] {
  const out: TrainingSegment[] = [];
  const turns = record.turns;
  for (let i = 0; i + 1 < turns.length; i += 2) {
    let user = turns[i].content.trim();
    if (i === 0 && options.includeSystem !== false && record.system) {
      user = `<<SYS>> ${record.system} <</SYS>> ${user}`;
    }
    out.push({ text: `<s>[INST] ${user} [/INST]`, loss: false });
    out.push({ text: `${turns[i + 1].content.trim()} </s>`, loss: true });
  }
  return out;
}
