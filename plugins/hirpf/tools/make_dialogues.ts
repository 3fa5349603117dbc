/**
 * Builds the shipped identity dialogue dataset (`data/dialogues/{train,test}.json`, HIS format)
 * from the phrase banks in `phrase_bank.ts`, deterministically from a seed.
 *
 * Run: `deno run -A plugins/hirpf/tools/make_dialogues.ts` (rewrites both files).
 *
 * @module
 */

import { Prng } from "../../../core/util/prng.ts";
import { writeFileAtomic } from "../../../core/util/atomic.ts";
import {
  BIG_FIVE_FACTORS,
  DEFAULT_PROFESSIONS,
  POLARITIES,
  TRAIT_IDENTITIES,
} from "../identities.ts";
import { HELD_OUT_TOPICS, PHRASES, type Topic, TOPICS } from "./phrase_bank.ts";

/** A record in HIS format. */
export interface DialogueRecord {
  dialog: { role: "user" | "assistant"; content: string }[];
  active_adapters: string[];
}

const IDENTITIES = [...TRAIT_IDENTITIES, ...DEFAULT_PROFESSIONS];

function fill(template: string, topic: Topic): string {
  const cap = topic.phrase.charAt(0).toUpperCase() + topic.phrase.slice(1);
  return template.replaceAll("{Topic}", cap).replaceAll("{topic}", topic.phrase);
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * Writes the two assistant replies for an identity list on a topic.
 *
 * @example
 * ```ts
 * import { Prng } from "../../../core/util/prng.ts";
 * import { TOPICS } from "./phrase_bank.ts";
 * import { composeReplies } from "./make_dialogues.ts";
 * console.log(composeReplies(["EXT_high"], TOPICS[0], new Prng(1))[0]);
 * ```
 */
export function composeReplies(
  identities: readonly string[],
  topic: Topic,
  rng: Prng,
): [string, string] {
  const first: string[] = [];
  const second: string[] = [];
  identities.forEach((id, i) => {
    const p = PHRASES[id];
    const body = fill(rng.choice(p.first), topic);
    const isProfession = DEFAULT_PROFESSIONS.includes(id);
    if (isProfession) first.push(`${rng.choice(p.openers)} ${body}`);
    else if (i === 0) first.push(`${rng.choice(p.openers)} ${capitalize(body)}`);
    else first.push(capitalize(body));
    second.push(rng.choice(p.second));
  });
  return [first.join(" "), second.join(" ")];
}

function randomIdentitySet(size: number, rng: Prng): string[] {
  const withProfession = size === 6 || rng.next() < 0.35;
  const traitCount = withProfession ? size - 1 : size;
  const factors = rng.shuffle(BIG_FIVE_FACTORS).slice(0, traitCount);
  const set = factors.map((f) => `${f}_${rng.choice(POLARITIES)}`);
  if (withProfession) set.push(rng.choice(DEFAULT_PROFESSIONS));
  return rng.shuffle(set);
}

function record(identities: string[], topic: Topic, rng: Prng): DialogueRecord {
  const [a1, a2] = composeReplies(identities, topic, rng);
  return {
    dialog: [
      { role: "user", content: topic.opening },
      { role: "assistant", content: a1 },
      { role: "user", content: topic.followUp },
      { role: "assistant", content: a2 },
    ],
    active_adapters: identities,
  };
}

/**
 * Builds both splits. Train uses the first topics, test the held-out ones; every identity appears
 * alone in both splits, plus random legal combinations of 2 to 6 identities.
 *
 * @example
 * ```ts
 * import { makeDialogues } from "./make_dialogues.ts";
 * const { train, test } = makeDialogues(7);
 * console.log(train.length, test.length); // 234 52
 * ```
 */
export function makeDialogues(seed = 7): { train: DialogueRecord[]; test: DialogueRecord[] } {
  const rng = new Prng(seed);
  const trainTopics = TOPICS.slice(0, TOPICS.length - HELD_OUT_TOPICS);
  const testTopics = TOPICS.slice(TOPICS.length - HELD_OUT_TOPICS);
  const build = (topics: Topic[], singlesPer: number, sizes: [number, number][]) => {
    const out: DialogueRecord[] = [];
    for (const id of IDENTITIES) {
      for (const topic of rng.shuffle(topics).slice(0, singlesPer)) {
        out.push(record([id], topic, rng));
      }
    }
    for (const [size, count] of sizes) {
      for (let k = 0; k < count; k++) {
        out.push(record(randomIdentitySet(size, rng), rng.choice(topics), rng));
      }
    }
    return rng.shuffle(out);
  };
  const train = build(trainTopics, 8, [[2, 70], [3, 40], [4, 10], [5, 6], [6, 4]]);
  const test = build(testTopics, 2, [[2, 12], [3, 8], [4, 3], [5, 2], [6, 1]]);
  return { train, test };
}

/**
 * Serializes records one per line (readable diffs, still a JSON array).
 *
 * @example
 * ```ts
 * import { toJsonLines } from "./make_dialogues.ts";
 * console.log(toJsonLines([])); // "[\n\n]\n"
 * ```
 */
export function toJsonLines(records: readonly DialogueRecord[]): string {
  return "[\n" + records.map((r) => "  " + JSON.stringify(r)).join(",\n") + "\n]\n";
}

if (import.meta.main) {
  const { train, test } = makeDialogues();
  const dir = new URL("../data/dialogues/", import.meta.url);
  await writeFileAtomic(new URL("train.json", dir).pathname, toJsonLines(train));
  await writeFileAtomic(new URL("test.json", dir).pathname, toJsonLines(test));
  console.log(`wrote ${train.length} train and ${test.length} test dialogues`);
}
