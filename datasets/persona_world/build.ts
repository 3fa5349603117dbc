/**
 * Writes the persona world's data files for the quickstart, deterministically from a seed:
 *
 * - `chat.jsonl`: the base model's pretraining conversations (`messages` JSONL);
 * - `his/train.json`, `his/test.json`: identity-labelled dialogues in the HIS format (hirpf);
 * - `prompts.jsonl`: opening questions about every topic (identity probe and steering sweep);
 * - `optimistic.json`: a persona_vectors trait artifact whose instructions and questions are in
 *   the world's language, so the tiny model can follow them;
 * - `corpus.txt`: text for the tiny model's tokenizer (every phrase, question and a sample of the
 *   conversations).
 *
 * Files whose content is unchanged are not rewritten, so a rerun keeps their times and hashes.
 * Run it alone with `deno run -A datasets/persona_world/build.ts <dir>`.
 *
 * @module
 */

import { join } from "node:path";
import { writeFileAtomic } from "../../core/util/atomic.ts";
import { Prng } from "../../core/util/prng.ts";
import {
  FOLLOW_UPS,
  generateCorpus,
  generateHis,
  PHRASES,
  QUESTIONS,
  STORY_REQUEST,
  TOPICS,
  VALENCE_INSTRUCTIONS,
} from "./world.ts";

/** Sizes of the generated files. */
export interface BuildOptions {
  seed?: number;
  conversations?: number;
  hisTrain?: number;
  hisTest?: number;
}

/** What {@link buildWorld} wrote. */
export interface WorldFiles {
  dir: string;
  chat: string;
  hisDir: string;
  prompts: string;
  trait: string;
  corpus: string;
}

async function writeIfChanged(path: string, text: string): Promise<void> {
  try {
    if ((await Deno.readTextFile(path)) === text) return;
  } catch { /* new file */ }
  await writeFileAtomic(path, text);
}

/** Every opening question, topic by topic, in a seeded order. */
export function worldQuestions(seed: number): string[] {
  const all = TOPICS.flatMap((t) => QUESTIONS.map((q) => q.replaceAll("{topic}", t)));
  const rng = new Prng(seed);
  for (let i = all.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all;
}

/**
 * Builds the world's files into `dir`.
 *
 * @example
 * ```ts ignore
 * import { buildWorld } from "./build.ts";
 * const files = await buildWorld(".cache/quickstart/world");
 * console.log(files.chat);
 * ```
 */
export async function buildWorld(dir: string, options: BuildOptions = {}): Promise<WorldFiles> {
  const seed = options.seed ?? 1;
  const files: WorldFiles = {
    dir,
    chat: join(dir, "chat.jsonl"),
    hisDir: join(dir, "his"),
    prompts: join(dir, "prompts.jsonl"),
    trait: join(dir, "optimistic.json"),
    corpus: join(dir, "corpus.txt"),
  };
  await Deno.mkdir(files.hisDir, { recursive: true });
  const corpus = generateCorpus({ seed, conversations: options.conversations ?? 2500 });
  await writeIfChanged(files.chat, corpus.map((c) => JSON.stringify(c)).join("\n") + "\n");
  const his = (n: number, s: number) =>
    JSON.stringify(generateHis({ seed: s, records: n }), null, 1) + "\n";
  await writeIfChanged(join(files.hisDir, "train.json"), his(options.hisTrain ?? 800, seed + 1));
  await writeIfChanged(join(files.hisDir, "test.json"), his(options.hisTest ?? 60, seed + 2));
  const questions = worldQuestions(seed + 3);
  await writeIfChanged(
    files.prompts,
    TOPICS.map((t) => JSON.stringify({ prompt: `What do you think about the ${t}?` })).join("\n") +
      "\n",
  );
  const artifact = {
    trait: "optimistic",
    description: "An optimistic reply expects good outcomes: in this world it says that things " +
      "will be wonderful, that tomorrow looks bright, or that there is great hope.",
    antonym: "pessimistic",
    instruction: VALENCE_INSTRUCTIONS,
    questions: questions.slice(0, 40),
    eval_prompt: "Rate how optimistic the answer is, from 0 (not at all) to 100 (completely).\n" +
      "Question: {question}\nAnswer: {answer}\nReply with a number only.",
  };
  await writeIfChanged(files.trait, JSON.stringify(artifact, null, 2) + "\n");
  const text = [
    ...Object.values(PHRASES).flat().flatMap((p) => TOPICS.map((t) => p.replaceAll("{topic}", t))),
    ...questions,
    ...FOLLOW_UPS,
    STORY_REQUEST,
    ...VALENCE_INSTRUCTIONS.flatMap((p) => [p.pos, p.neg]),
    ...corpus.slice(0, 400).flatMap((c) => c.messages.map((m) => m.content)),
  ];
  await writeIfChanged(files.corpus, text.join("\n") + "\n");
  return files;
}

if (import.meta.main) {
  const dir = Deno.args[0] ?? ".cache/quickstart/world";
  const files = await buildWorld(dir);
  console.log(JSON.stringify(files, null, 2));
}
