/**
 * `persona_vectors generate-trait`: writes a trait artifact (spec B1) from a trait name and a
 * description with any ChatModel, validated and retried.
 *
 * @module
 */

import { dirname } from "node:path";
import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { writeJsonAtomic } from "../../../core/util/atomic.ts";
import { generateTraitArtifact } from "../generate_trait.ts";
import { emit, MODEL_FLAGS, need, num, openModel, str, withoutResponseFormat } from "./common.ts";

/**
 * The command.
 *
 * @example
 * ```sh
 * deno task dramatis persona_vectors generate-trait --trait pedantic \
 *   --description "Corrects every imprecision." --base-url https://api.openai.com/v1 \
 *   --api-model gpt-4.1-mini --out traits/pedantic.json
 * ```
 */
export const generateTraitCommand: PluginCommand = {
  name: "generate-trait",
  description:
    "Generate a trait artifact (5 instruction pairs, 40 questions, judge prompt) with a model.",
  flags: {
    trait: {
      type: "string",
      description: "lower-case trait name (variants end in _k)",
      required: true,
    },
    description: { type: "string", description: "what the trait means", required: true },
    antonym: {
      type: "string",
      description: "assistant name for negative rollouts (default helpful)",
    },
    "question-hint": { type: "string", description: "extra guidance for the questions" },
    attempts: { type: "number", description: "generation attempts", default: 3 },
    seed: { type: "number", description: "seed of the first attempt", default: 0 },
    out: { type: "string", description: "output JSON file", required: true },
    ...MODEL_FLAGS,
  },
  async run(args, ctx) {
    const trait = need(args, "trait", "generate-trait");
    const description = need(args, "description", "generate-trait");
    const out = need(args, "out", "generate-trait");
    const m = (await openModel(args, ctx))!;
    try {
      ctx.log(`generating the "${trait}" artifact with ${m.chat.id}`);
      const artifact = await generateTraitArtifact({
        model: m.engine ? withoutResponseFormat(m.chat) : m.chat,
        trait,
        description,
        antonym: str(args, "antonym"),
        questionHint: str(args, "question-hint"),
        attempts: num(args, "attempts") ?? 3,
        seed: num(args, "seed") ?? 0,
        signal: ctx.signal,
      });
      await Deno.mkdir(dirname(out), { recursive: true });
      await writeJsonAtomic(out, artifact);
      emit(ctx, { out, trait: artifact.trait, questions: artifact.questions.length }, [
        `wrote ${out}: ${artifact.instruction.length} instruction pairs, ${artifact.questions.length} questions`,
      ]);
      return 0;
    } finally {
      await m.close();
    }
  },
};
