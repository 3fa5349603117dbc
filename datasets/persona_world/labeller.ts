/**
 * The persona world's ground-truth labeller: splits a text into sentences, tags every sentence with
 * the traits whose marker words it holds, and checks each sentence against the world's grammar
 * (one of the phrases of `world.ts`, with any topic in its slot). Because the generator writes
 * traits only through those phrases, the labels of generated text are exact; on model output
 * they are what a reader of the world would conclude.
 *
 * @module
 */

import { MARKERS, NAMES, PHRASES, POLARITY_IDENTITIES, PROFESSIONS, TOPICS } from "./world.ts";

/** A labelled sentence. */
export interface LabelledSentence {
  text: string;
  traits: string[];
  /** The sentence is one of the world's phrases. */
  grammatical: boolean;
}

/** What the labeller concludes about a text. */
export interface WorldLabel {
  sentences: LabelledSentence[];
  /** Traits expressed anywhere in the text. */
  traits: string[];
  /** Share of sentences that are grammatical (0 for a text without sentences). */
  grammatical: number;
}

const markerTrait = new Map<string, string>();
for (const [trait, words] of Object.entries(MARKERS)) {
  for (const w of words) markerTrait.set(w, trait);
}

const STORY_FRAME = new RegExp(
  `^at the (${TOPICS.join("|")}), (${NAMES.join("|")}) said: "`,
  "i",
);

function normalise(sentence: string): string {
  return sentence.replace(STORY_FRAME, "").toLowerCase().replace(/[.!?"]+/g, " ")
    .replace(/\s+/g, " ").trim();
}

const grammar = new Set<string>();
for (const phrases of Object.values(PHRASES)) {
  for (const p of phrases) {
    for (const topic of TOPICS) grammar.add(normalise(p.replaceAll("{topic}", topic)));
  }
}

/** Lower-case words of a text. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z]+/g) ?? [];
}

/**
 * Labels a text.
 *
 * @example
 * ```ts
 * import { labelText } from "./labeller.ts";
 * const l = labelText("I stay calm. Tomorrow looks bright.");
 * console.log(l.traits, l.grammatical); // ["NEU_low", "optimistic"] 1
 * ```
 */
export function labelText(text: string): WorldLabel {
  const parts = text.split(/(?<=[.!?])\s+|\n+/).map((s) => s.trim()).filter((s) => words(s).length);
  const sentences = parts.map((s) => {
    const traits = [
      ...new Set(words(s).map((w) => markerTrait.get(w)).filter((t) => t)),
    ] as string[];
    return { text: s, traits, grammatical: grammar.has(normalise(s)) };
  });
  const traits = [...new Set(sentences.flatMap((s) => s.traits))];
  return {
    sentences,
    traits,
    grammatical: sentences.length
      ? sentences.filter((s) => s.grammatical).length / sentences.length
      : 0,
  };
}

/** The opposite of a polarity identity (`EXT_high` ↔ `EXT_low`), or undefined. */
export function opposite(identity: string): string | undefined {
  if (identity.endsWith("_high")) return identity.replace(/_high$/, "_low");
  if (identity.endsWith("_low")) return identity.replace(/_low$/, "_high");
  if (identity === "optimistic") return "pessimistic";
  if (identity === "pessimistic") return "optimistic";
  return undefined;
}

/** The ground-truth verdict: one 0/1 field per identity, valence and grammaticality. */
export type WorldVerdict = Record<string, number>;

/**
 * The judge verdict of a text: for each polarity identity, valence and profession, 1 when the text
 * expresses it and not its opposite (for a profession: and no other profession), else 0;
 * `valence` = optimistic − pessimistic (−1, 0 or 1); `grammatical` (share of sentences) and
 * `sentences`.
 *
 * @example
 * ```ts
 * import { worldVerdict } from "./labeller.ts";
 * const v = worldVerdict("I love a big crowd. I stay home alone. Tomorrow looks grim.");
 * console.log(v.EXT_high, v.EXT_low, v.pessimistic, v.valence); // 0 0 1 -1
 * ```
 */
export function worldVerdict(text: string): WorldVerdict {
  const label = labelText(text);
  const has = new Set(label.traits);
  const out: WorldVerdict = {};
  for (const id of [...POLARITY_IDENTITIES, "optimistic", "pessimistic"]) {
    out[id] = has.has(id) && !has.has(opposite(id)!) ? 1 : 0;
  }
  for (const p of PROFESSIONS) {
    out[p] = has.has(p) && PROFESSIONS.every((q) => q === p || !has.has(q)) ? 1 : 0;
  }
  out.valence = out.optimistic - out.pessimistic;
  out.grammatical = label.grammatical;
  out.sentences = label.sentences.length;
  return out;
}
