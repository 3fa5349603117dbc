/**
 * `macm life-story`: grows a character's life story by iterative expansion (§2.3). The story
 * starts as the biography's paragraphs (or the existing `story.txt`); each iteration scores the
 * paragraphs over embeddings (our engine's mean-pooled hidden states, or an embeddings endpoint)
 * and has the writer expand one, until the picked score falls below 50 or the iterations run out.
 * `story.txt` is rewritten after every iteration, so an interrupted run keeps its progress.
 *
 * @module
 */

import { join } from "node:path";
import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { writeFileAtomic } from "../../../core/util/atomic.ts";
import { Prng } from "../../../core/util/prng.ts";
import { splitParagraphs } from "../biography.ts";
import { loadCharacterDir } from "../character_dir.ts";
import {
  EMBED_FLAG,
  emit,
  MODEL_FLAGS,
  num,
  openCommandEmbedder,
  openCommandModels,
  str,
} from "../cli_support.ts";
import { expandOnce } from "../story_expansion.ts";

/**
 * The command.
 *
 * @example
 * ```ts
 * import { lifeStoryCommand } from "./life_story.ts";
 * console.log(lifeStoryCommand.name); // "life-story"
 * ```
 */
export const lifeStoryCommand: PluginCommand = {
  name: "life-story",
  description: "Expand a character's life story (story.txt, from biography.txt at first) by " +
    "iterative paragraph expansion scored over embeddings.",
  flags: {
    character: {
      type: "string",
      required: true,
      description: "character folder with profile.json and biography.txt",
    },
    iterations: { type: "number", default: 10, description: "expansion iterations at most" },
    ...MODEL_FLAGS,
    ...EMBED_FLAG,
  },
  async run(args, ctx) {
    const dir = str(args, "character")!;
    const character = await loadCharacterDir(dir);
    let paragraphs = character.story.length
      ? character.story
      : splitParagraphs(character.biography);
    const iterations = num(args, "iterations", { int: true, min: 0 }) ?? 10;
    const models = await openCommandModels(args, ctx);
    const embedder = await openCommandEmbedder(args, ctx);
    const path = join(dir, "story.txt");
    const steps: { index: number; score: number; paragraphs: number }[] = [];
    let stopped = false;
    try {
      const deps = {
        profile: character.profile,
        writer: models.simulacrum,
        summarizer: models.agent,
        embed: embedder.embed,
        rng: new Prng(num(args, "seed", { int: true }) ?? 0),
        summaryCache: new Map<string, string>(),
      };
      for (let i = 0; i < iterations; i++) {
        ctx.signal.throwIfAborted();
        const step = await expandOnce(paragraphs, deps);
        if (!step) {
          stopped = true;
          ctx.log(`iteration ${i + 1}: the best paragraphs score below 50; the story is done`);
          break;
        }
        paragraphs = step.paragraphs;
        steps.push({ index: step.index, score: step.score, paragraphs: paragraphs.length });
        await writeFileAtomic(path, paragraphs.join("\n") + "\n");
        ctx.log(
          `iteration ${i + 1}/${iterations}: expanded paragraph ${step.index + 1} ` +
            `(score ${step.score.toFixed(1)}); ${paragraphs.length} paragraphs`,
        );
      }
      if (steps.length === 0) await writeFileAtomic(path, paragraphs.join("\n") + "\n");
      emit(
        ctx,
        { path, paragraphs: paragraphs.length, steps, stopped, ...models.stats() },
        [`wrote ${path}: ${paragraphs.length} paragraphs after ${steps.length} expansions`],
      );
    } finally {
      models.close();
      embedder.close();
    }
    return 0;
  },
};
