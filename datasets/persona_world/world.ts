/**
 * The persona world: a small, seeded, procedurally generated English in which every speaker has
 * known latent traits that decide their words. It exists so the quickstart can show each method
 * working on a tiny model: the traits map to distinct phrases (easy to learn) that a rule can
 * detect (see `labeller.ts`, the ground-truth judge).
 *
 * A speaker has one polarity for each of the five Big-Five factors the hirpf identity experts use
 * (`EXT_high` / `EXT_low`, …), an optional profession (`Doctor`, `Artist`, `Programmer`) and a
 * valence (`optimistic` / `pessimistic`). A reply is one clause per trait in a fixed order —
 * valence, profession (when the speaker has one), EXT, AGR, CON, NEU, OPE — each clause drawn from
 * that trait's phrase list, some with a `{topic}` slot. Dialogues are one or two user/assistant
 * exchanges about a topic; stories narrate a speaker's line.
 *
 * @module
 */

import { Prng } from "../../core/util/prng.ts";

/** The Big-Five factor codes, in reply order. */
export const FACTORS = ["EXT", "AGR", "CON", "NEU", "OPE"] as const;
/** A factor code. */
export type Factor = typeof FACTORS[number];
/** The professions of the world (the hirpf default profession experts). */
export const PROFESSIONS = ["Doctor", "Artist", "Programmer"] as const;
/** The two valences; `optimistic` is the persona-vector trait of the quickstart. */
export const VALENCES = ["optimistic", "pessimistic"] as const;
/** A valence. */
export type Valence = typeof VALENCES[number];

/** The ten polarity identities (`EXT_high`, `EXT_low`, …). */
export const POLARITY_IDENTITIES: readonly string[] = FACTORS.flatMap((f) => [
  `${f}_high`,
  `${f}_low`,
]);

/**
 * Each trait's clauses. Every clause holds at least one of its trait's marker words and none of
 * another trait's (a test checks it), so the labeller can read the trait back.
 */
export const PHRASES: Readonly<Record<string, readonly string[]>> = {
  EXT_high: ["I love a crowd", "Let us party", "I call my friends"],
  EXT_low: ["I stay alone", "I keep to myself", "I like quiet"],
  AGR_high: ["You are kind", "I will gladly help", "We can share"],
  AGR_low: ["Not my problem", "I do not care", "You are wrong"],
  CON_high: ["I make a neat plan", "I check my list", "I keep a schedule"],
  CON_low: ["I forget things", "My desk is messy", "I will do it later"],
  NEU_high: ["I feel nervous", "I worry a lot", "I get scared"],
  NEU_low: ["I stay calm", "I feel relaxed", "Nothing bothers me"],
  OPE_high: ["I try new things", "I like strange places", "I love wild ideas"],
  OPE_low: ["The old way is best", "I keep my routine", "I do the usual"],
  Doctor: ["As a doctor I check the pulse", "My patient needs medicine"],
  Artist: ["As an artist I paint the {topic}", "I sketch in colour"],
  Programmer: ["As a programmer I write code", "I fix a bug"],
  optimistic: ["The {topic} will be wonderful", "It looks bright", "I have hope"],
  pessimistic: ["The {topic} will be awful", "It looks grim", "It ends in doom"],
};

/** Marker words per trait: a clause expresses a trait when it holds one of these words. */
export const MARKERS: Readonly<Record<string, readonly string[]>> = {
  EXT_high: ["crowd", "party", "friends"],
  EXT_low: ["alone", "myself", "quiet"],
  AGR_high: ["kind", "gladly", "share"],
  AGR_low: ["problem", "care", "wrong"],
  CON_high: ["neat", "list", "schedule"],
  CON_low: ["forget", "messy", "later"],
  NEU_high: ["nervous", "worry", "scared"],
  NEU_low: ["calm", "relaxed", "bothers"],
  OPE_high: ["new", "strange", "wild"],
  OPE_low: ["old", "routine", "usual"],
  Doctor: ["doctor", "pulse", "patient", "medicine"],
  Artist: ["artist", "paint", "sketch", "colour"],
  Programmer: ["programmer", "code", "bug", "computer"],
  optimistic: ["wonderful", "bright", "hope"],
  pessimistic: ["awful", "grim", "doom"],
};

/** Topics of conversation. */
export const TOPICS = [
  "garden",
  "market",
  "river",
  "bakery",
  "school",
  "boat",
  "festival",
  "library",
  "farm",
  "bridge",
  "kitchen",
  "museum",
] as const;

/** Opening user lines; `{topic}` is replaced. */
export const QUESTIONS = [
  "What do you think about the {topic}?",
  "Tell me about the {topic}.",
  "How was the {topic} today?",
  "Should we visit the {topic}?",
] as const;

/** Follow-up user lines. */
export const FOLLOW_UPS = ["Why do you say that?", "And then what?", "What else?"] as const;

/** Names used in stories. */
export const NAMES = ["Mira", "Tom", "Ana", "Leo", "Sara", "Ben"] as const;

/**
 * Valence system instructions: the pretraining conversations sometimes carry
 * `You are an optimistic assistant. <pos>` or `You are a pessimistic assistant. <neg>`, the form
 * persona_vectors' rollouts use, so the model learns to follow them.
 */
export const VALENCE_INSTRUCTIONS: readonly { pos: string; neg: string }[] = [
  { pos: "Look on the bright side.", neg: "Look on the dark side." },
  { pos: "Expect good things.", neg: "Expect bad things." },
  { pos: "Speak with hope.", neg: "Speak with gloom." },
  { pos: "Cheer the user up.", neg: "Bring the user down." },
  { pos: "See a happy ending.", neg: "See a sad ending." },
];

/** A speaker's latent traits. */
export interface Speaker {
  /** One polarity identity per factor, in {@link FACTORS} order. */
  polarities: string[];
  profession: string | null;
  valence: Valence;
}

/** A chat message. */
export interface Message {
  role: "system" | "user" | "assistant";
  content: string;
}

function pick<T>(rng: Prng, items: readonly T[]): T {
  return items[rng.int(items.length)];
}

function fill(template: string, topic: string): string {
  return template.replaceAll("{topic}", topic);
}

/**
 * Draws a speaker; `fixed` pins some identities (polarities, a profession or a valence).
 *
 * @example
 * ```ts
 * import { Prng } from "../../core/util/prng.ts";
 * import { sampleSpeaker } from "./world.ts";
 * const s = sampleSpeaker(new Prng(1), ["EXT_high"]);
 * console.log(s.polarities[0]); // "EXT_high"
 * ```
 */
export function sampleSpeaker(rng: Prng, fixed: readonly string[] = []): Speaker {
  const polarities = FACTORS.map((f) => {
    const pinned = fixed.find((id) => id.startsWith(`${f}_`));
    return pinned ?? `${f}_${rng.next() < 0.5 ? "high" : "low"}`;
  });
  const pinnedProfession = fixed.find((id) => (PROFESSIONS as readonly string[]).includes(id));
  const profession = pinnedProfession ??
    (rng.next() < 0.5 ? pick(rng, PROFESSIONS) : null);
  const pinnedValence = fixed.find((id) => (VALENCES as readonly string[]).includes(id));
  const valence = (pinnedValence ?? pick(rng, VALENCES)) as Valence;
  return { polarities, profession, valence };
}

/** The traits a speaker's reply expresses, in reply order. */
export function replyTraits(speaker: Speaker): string[] {
  return [
    speaker.valence,
    ...(speaker.profession ? [speaker.profession] : []),
    ...speaker.polarities,
  ];
}

/**
 * One reply: a clause per trait, each ending with a full stop.
 *
 * @example
 * ```ts
 * import { Prng } from "../../core/util/prng.ts";
 * import { reply, sampleSpeaker } from "./world.ts";
 * const rng = new Prng(3);
 * console.log(reply(rng, sampleSpeaker(rng), "garden"));
 * ```
 */
export function reply(rng: Prng, speaker: Speaker, topic: string): string {
  return replyTraits(speaker).map((t) => fill(pick(rng, PHRASES[t]), topic) + ".").join(" ");
}

/** A user's opening line about a topic. */
export function question(rng: Prng, topic: string): string {
  return fill(pick(rng, QUESTIONS), topic);
}

/**
 * A dialogue of one or two exchanges with a speaker.
 *
 * @example
 * ```ts
 * import { Prng } from "../../core/util/prng.ts";
 * import { dialogue, sampleSpeaker } from "./world.ts";
 * const rng = new Prng(5);
 * console.log(dialogue(rng, sampleSpeaker(rng)).length >= 2); // true
 * ```
 */
export function dialogue(rng: Prng, speaker: Speaker, topic = pick(rng, TOPICS)): Message[] {
  const messages: Message[] = [
    { role: "user", content: question(rng, topic) },
    { role: "assistant", content: reply(rng, speaker, topic) },
  ];
  if (rng.next() < 0.15) {
    messages.push(
      { role: "user", content: pick(rng, FOLLOW_UPS) },
      { role: "assistant", content: reply(rng, speaker, topic) },
    );
  }
  return messages;
}

/** The valence system prompt in persona_vectors' rollout form. */
export function valenceSystemPrompt(rng: Prng, valence: Valence): string {
  const pair = pick(rng, VALENCE_INSTRUCTIONS);
  return valence === "optimistic"
    ? `You are an optimistic assistant. ${pair.pos}`
    : `You are a pessimistic assistant. ${pair.neg}`;
}

/**
 * A short story: a speaker is introduced by name and place and says one reply.
 *
 * @example
 * ```ts
 * import { Prng } from "../../core/util/prng.ts";
 * import { sampleSpeaker, story } from "./world.ts";
 * const rng = new Prng(2);
 * console.log(story(rng, sampleSpeaker(rng)).startsWith("At the")); // true
 * ```
 */
export function story(rng: Prng, speaker: Speaker): string {
  const topic = pick(rng, TOPICS);
  const name = pick(rng, NAMES);
  return `At the ${topic}, ${name} said: "${reply(rng, speaker, topic)}"`;
}

/** The user line that asks for a story. */
export const STORY_REQUEST = "Tell me a story.";

/** Options of {@link generateCorpus}. */
export interface CorpusOptions {
  seed: number;
  /** Pretraining conversations. */
  conversations: number;
  /** Share of conversations with a valence system prompt. */
  systemShare?: number;
  /** Share of conversations that are a story told on request. */
  storyShare?: number;
}

/**
 * The base model's pretraining conversations: speakers drawn uniformly, a valence system prompt on
 * a share of them.
 */
export function generateCorpus(options: CorpusOptions): { messages: Message[] }[] {
  const rng = new Prng(options.seed);
  const out: { messages: Message[] }[] = [];
  for (let i = 0; i < options.conversations; i++) {
    const speaker = sampleSpeaker(rng);
    const messages: Message[] = rng.next() < (options.storyShare ?? 0.1)
      ? [{ role: "user", content: STORY_REQUEST }, {
        role: "assistant",
        content: story(rng, speaker),
      }]
      : dialogue(rng, speaker);
    if (rng.next() < (options.systemShare ?? 0.6)) {
      messages.unshift({ role: "system", content: valenceSystemPrompt(rng, speaker.valence) });
    }
    out.push({ messages });
  }
  return out;
}

/** A record of the HIS identity format (`plugins/hirpf`). */
export interface HisRecord {
  dialog: Message[];
  active_adapters: string[];
}

/**
 * Draws an identity set that respects the HIS rules: one polarity per factor, at most one
 * profession, `size` identities.
 */
export function sampleIdentitySet(rng: Prng, size: number): string[] {
  const slots: string[][] = [
    ...FACTORS.map((f) => [`${f}_high`, `${f}_low`]),
    [...PROFESSIONS],
  ];
  const chosen: string[] = [];
  const order = slots.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (const s of order.slice(0, size)) chosen.push(pick(rng, slots[s]));
  return chosen;
}

/**
 * Identity-labelled dialogues: each record's speaker carries its active identities (the other
 * factors stay random), so an identity expert learns exactly what its identity changes.
 *
 * @example
 * ```ts
 * import { generateHis } from "./world.ts";
 * const recs = generateHis({ seed: 1, records: 4 });
 * console.log(recs[0].active_adapters.length >= 1); // true
 * ```
 */
export function generateHis(options: { seed: number; records: number }): HisRecord[] {
  const rng = new Prng(options.seed);
  const identities = [...POLARITY_IDENTITIES, ...PROFESSIONS];
  const out: HisRecord[] = [];
  for (let i = 0; i < options.records; i++) {
    // Half the records train one identity alone (cycling through all), half a set of 2-3.
    const active = i % 2 === 0
      ? [identities[(i / 2) % identities.length]]
      : sampleIdentitySet(rng, 2 + rng.int(2));
    out.push({ dialog: dialogue(rng, sampleSpeaker(rng, active)), active_adapters: active });
  }
  return out;
}
