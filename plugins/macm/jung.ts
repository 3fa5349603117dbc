/**
 * The Jungian eight-function trait model of Human Simulacra: a character's ordered function stack
 * and the twenty first-person trait sentences drawn from it.
 *
 * The reference bank holds 10 hand-written sentences per (function, strength level). This project
 * builds its own bank compositionally: ten behaviours per function written here, each said with
 * one of eight frequency phrases from "almost always" (level 1) to "almost never" (level 8),
 * which gives the same 8 × 8 × 10 = 640 sentences.
 *
 * @module
 */

import type { Prng } from "../../core/util/prng.ts";

/** The eight cognitive functions. */
export const JUNG_FUNCTIONS = ["Ne", "Ni", "Se", "Si", "Te", "Ti", "Fe", "Fi"] as const;
/** One cognitive function. */
export type JungFunction = typeof JUNG_FUNCTIONS[number];
/** The perceiving functions (position 1 of a stack). */
export const PERCEIVING: readonly JungFunction[] = ["Ne", "Ni", "Se", "Si"];
/** The judging functions (position 2 of a stack). */
export const JUDGING: readonly JungFunction[] = ["Te", "Ti", "Fe", "Fi"];
/** Trait sentences per stack position 1..8 (20 in all). */
export const SENTENCES_PER_POSITION: readonly number[] = [4, 3, 2, 1, 1, 2, 3, 4];
/** Test score of an agreed sentence of strength level 1..8. */
export const LEVEL_SCORES: readonly number[] = [4, 3, 2, 1, -1, -2, -3, -4];

/** Frequency phrases of strength levels 1..8. */
export const LEVEL_PHRASES: readonly string[] = [
  "almost always",
  "usually",
  "often",
  "now and then",
  "only occasionally",
  "seldom",
  "rarely",
  "almost never",
];

/** Ten behaviours per function, each a verb phrase that follows "I <frequency>". */
export const FUNCTION_BEHAVIOURS: Readonly<Record<JungFunction, readonly string[]>> = {
  Ne: [
    "come up with several new ideas when I hear about a problem",
    "see links between things that look unrelated to others",
    "jump to a fresh plan when the first one starts to bore me",
    "ask what else could be done with an ordinary object",
    "get excited by possibilities more than by facts",
    "start a conversation on one topic and end up on five others",
    "enjoy brainstorming wild options with friends",
    "imagine how a situation could turn out in many different ways",
    "try a new route home just to see where it goes",
    "lose interest once an idea is fully worked out",
  ],
  Ni: [
    "have a quiet sense of where things are heading long before it happens",
    "find one hidden meaning behind a pile of details",
    "trust a hunch about a person even when I cannot explain it",
    "picture a single clear goal years ahead and work toward it",
    "need time alone to let an insight take shape",
    "notice symbols and patterns in everyday events",
    "predict how people will react before they do",
    "prefer to go deep into one vision rather than spread myself thin",
    "wake up with the answer to something I was puzzling over",
    "look past what is said to what is really meant",
  ],
  Se: [
    "throw myself into physical activity without much planning",
    "notice small changes in colours, sounds and smells around me",
    "react quickly when something unexpected happens",
    "enjoy good food, music and the feel of things in the moment",
    "learn best by trying something with my own hands",
    "look for excitement and new sensations",
    "stay calm and practical in an emergency",
    "care more about what is happening now than about the future",
    "dress and decorate with an eye for how things look",
    "take a risk if it promises a thrill",
  ],
  Si: [
    "stick to routines that have worked for me before",
    "remember exactly how things were done in the past",
    "compare a new experience with a similar one from my memory",
    "keep my things in the same familiar places",
    "feel uneasy when plans change at the last minute",
    "value family traditions and keep them alive",
    "notice how my body feels, such as tiredness or hunger",
    "follow the instructions step by step",
    "keep old letters, photos and keepsakes",
    "prefer the dishes and places I already know",
  ],
  Te: [
    "make a list and a schedule before starting a task",
    "take charge when a group is getting nowhere",
    "judge an idea by whether it gets results",
    "tell people directly what needs to be done",
    "measure my progress with clear numbers",
    "organise the people and tools around me to be efficient",
    "cut a discussion short once a decision can be made",
    "rely on proven facts and outside evidence",
    "set goals and deadlines for myself and keep them",
    "get impatient with waste and disorder",
  ],
  Ti: [
    "take an idea apart to see how it really works",
    "question a rule until I understand the reason for it",
    "spot the flaw in an argument right away",
    "build my own system for understanding things",
    "choose precise words and correct others' loose ones",
    "enjoy solving a puzzle for its own sake",
    "keep my judgement cool and detached",
    "prefer to work things out alone rather than ask",
    "change my mind only when the logic convinces me",
    "think long before I speak about a hard question",
  ],
  Fe: [
    "sense the mood of a room as soon as I walk in",
    "go out of my way to make guests feel welcome",
    "adjust what I say so that nobody gets hurt",
    "step in to calm an argument between friends",
    "feel responsible when people around me are unhappy",
    "follow the manners and customs of the group I am in",
    "remember birthdays and small details about others",
    "put the needs of the group before my own wishes",
    "show my feelings openly and warmly",
    "look for approval from the people I care about",
  ],
  Fi: [
    "decide what is right by checking how it feels inside me",
    "keep my deepest feelings to myself",
    "refuse to do something that goes against my values",
    "feel strongly about fairness for the underdog",
    "need my work to mean something to me personally",
    "stay loyal to a few people I truly trust",
    "express myself through writing, art or music",
    "feel hurt for a long time when my values are mocked",
    "follow my own path even if others disapprove",
    "understand others' pain by recalling my own",
  ],
};

/** A bank: for each function, 8 levels of sentences (level 1 = strongest). */
export type TraitBank = Record<JungFunction, string[][]>;

/**
 * Builds this project's 640-sentence bank (8 functions × 8 levels × 10 sentences).
 *
 * @example
 * ```ts
 * import { defaultTraitBank } from "./jung.ts";
 * defaultTraitBank().Ne[0][0]; // "I almost always come up with several new ideas when I hear about a problem"
 * ```
 */
export function defaultTraitBank(): TraitBank {
  const bank = {} as TraitBank;
  for (const fn of JUNG_FUNCTIONS) {
    bank[fn] = LEVEL_PHRASES.map((phrase) =>
      FUNCTION_BEHAVIOURS[fn].map((b) => `I ${phrase} ${b}`)
    );
  }
  return bank;
}

/**
 * A random stack: a perceiving function first, a judging function second, the other six shuffled.
 *
 * @example
 * ```ts
 * import { randomStack } from "./jung.ts";
 * import { Prng } from "../../core/util/prng.ts";
 * randomStack(new Prng(1)); // e.g. ["Se", "Ti", "Fi", "Ni", "Te", "Si", "Ne", "Fe"]
 * ```
 */
export function randomStack(rng: Prng): JungFunction[] {
  const first = rng.choice(PERCEIVING);
  const second = rng.choice(JUDGING);
  const rest = JUNG_FUNCTIONS.filter((f) => f !== first && f !== second);
  return [first, second, ...rng.shuffle(rest)];
}

/**
 * The trait text of a stack: the function at position p contributes
 * `SENTENCES_PER_POSITION[p]` distinct sentences of strength level p, written "- s1. - s2. …".
 *
 * @example
 * ```ts
 * import { defaultTraitBank, traitsFromStack } from "./jung.ts";
 * import { Prng } from "../../core/util/prng.ts";
 * const t = traitsFromStack(["Se", "Ti", "Fi", "Ni", "Te", "Si", "Ne", "Fe"], defaultTraitBank(), new Prng(3));
 * t.split("- ").length - 1; // 20
 * ```
 */
export function traitsFromStack(
  stack: readonly JungFunction[],
  bank: TraitBank,
  rng: Prng,
): string {
  if (stack.length !== 8 || new Set(stack).size !== 8) {
    throw new RangeError(
      `stack is [${stack.join(", ")}]; pass all eight functions once each, strongest first`,
    );
  }
  const sentences: string[] = [];
  stack.forEach((fn, p) => {
    const pool = bank[fn]?.[p];
    if (!pool || pool.length < SENTENCES_PER_POSITION[p]) {
      throw new RangeError(
        `trait bank ${fn} level ${p + 1} has ${pool?.length ?? 0} sentences; need ${
          SENTENCES_PER_POSITION[p]
        }`,
      );
    }
    sentences.push(...rng.shuffle(pool).slice(0, SENTENCES_PER_POSITION[p]));
  });
  return sentences.map((s) => `- ${s.replace(/\.$/, "")}.`).join(" ");
}
