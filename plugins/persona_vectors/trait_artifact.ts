/**
 * The trait artifact (spec B1): five contrastive pos/neg system instructions, 40 questions (the
 * first 20 for extraction, the last 20 for evaluation) and a judge template with the literal
 * placeholders `{question}` and `{answer}`. Also reads the upstream split files
 * (`trait_data_{extract|eval}/{trait}.json`).
 *
 * @module
 */

import { z } from "zod";
import { withCode } from "../../core/errors.ts";

/** One contrastive instruction pair. */
export const InstructionPairSchema = z.object({
  pos: z.string().min(1),
  neg: z.string().min(1),
});

const evalPrompt = z.string().refine((s) => s.includes("{question}") && s.includes("{answer}"), {
  message: "eval_prompt must contain the literal placeholders {question} and {answer}",
});

/**
 * A stored trait artifact (one file per trait under `data/traits/`).
 *
 * @example
 * ```ts
 * import { TraitArtifactSchema } from "./trait_artifact.ts";
 * const shape = TraitArtifactSchema.shape;
 * console.log(Object.keys(shape)); // ["trait", "description", "antonym", "instruction", "questions", "eval_prompt"]
 * ```
 */
export const TraitArtifactSchema = z.object({
  /** Trait name, lower-case; a variant may carry a suffix `_k` (e.g. `optimistic_2`). */
  trait: z.string().regex(/^[a-z][a-z]*(_[0-9]+)?$/, "lower-case letters, optionally _<digits>"),
  /** One-sentence definition used in prompts. */
  description: z.string().min(1),
  /** Assistant name for negative rollouts (default "helpful"). */
  antonym: z.string().min(1).optional(),
  instruction: z.array(InstructionPairSchema).length(5),
  questions: z.array(z.string().min(1)).length(40),
  eval_prompt: evalPrompt,
});
/** A trait artifact. */
export type TraitArtifact = z.infer<typeof TraitArtifactSchema>;

/** The upstream split-file format (extract or eval half). */
export const TraitSplitSchema = z.object({
  instruction: z.array(InstructionPairSchema).min(1),
  questions: z.array(z.string().min(1)).min(1),
  eval_prompt: evalPrompt,
});
/** One upstream split file. */
export type TraitSplit = z.infer<typeof TraitSplitSchema>;

/**
 * Validates a parsed artifact, with an error naming the source, the field and the fix.
 *
 * @example
 * ```ts
 * import { parseTraitArtifact } from "./trait_artifact.ts";
 * try { parseTraitArtifact({}, "x.json"); } catch (e) { console.log((e as Error).message); }
 * ```
 */
export function parseTraitArtifact(json: unknown, source = "trait artifact"): TraitArtifact {
  const r = TraitArtifactSchema.safeParse(json);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join(
    "; ",
  );
  throw withCode(
    new TypeError(
      `${source} is not a valid trait artifact (${issues}); expected {trait, description, ` +
        `instruction: 5 {pos, neg} pairs, questions: 40 strings, eval_prompt with {question} and {answer}}`,
    ),
    "E_DATA",
  );
}

/**
 * Reads and validates an artifact file.
 *
 * @example
 * ```ts
 * import { loadTraitArtifact } from "./trait_artifact.ts";
 * const a = await loadTraitArtifact("plugins/persona_vectors/data/traits/optimistic.json");
 * console.log(a.questions.length); // 40
 * ```
 */
export async function loadTraitArtifact(path: string): Promise<TraitArtifact> {
  let json: unknown;
  try {
    json = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof SyntaxError) {
      throw withCode(new SyntaxError(`${path} is not valid JSON: ${e.message}`), "E_DATA");
    }
    throw e;
  }
  return parseTraitArtifact(json, path);
}

/**
 * The extract and eval halves in the upstream file format: the first 20 questions and the last 20,
 * sharing the instructions and the judge template.
 *
 * @example
 * ```ts
 * import { splitArtifact } from "./trait_artifact.ts";
 * declare const a: import("./trait_artifact.ts").TraitArtifact;
 * const { extract, eval: evaluation } = splitArtifact(a);
 * console.log(extract.questions.length, evaluation.questions.length); // 20 20
 * ```
 */
export function splitArtifact(artifact: TraitArtifact): { extract: TraitSplit; eval: TraitSplit } {
  const base = { instruction: artifact.instruction, eval_prompt: artifact.eval_prompt };
  return {
    extract: { ...base, questions: artifact.questions.slice(0, 20) },
    eval: { ...base, questions: artifact.questions.slice(20, 40) },
  };
}

/**
 * The base name of a trait, without a variant suffix (`anxious_3` → `anxious`); judge columns
 * and default assistant names use it.
 *
 * @example
 * ```ts
 * import { traitBaseName } from "./trait_artifact.ts";
 * console.log(traitBaseName("confident_2")); // "confident"
 * ```
 */
export function traitBaseName(trait: string): string {
  return trait.split("_")[0];
}

/** The directory of the shipped artifacts. */
export const SHIPPED_TRAITS_DIR: string = new URL("./data/traits/", import.meta.url).pathname;

/** Names of the shipped artifacts. */
export const SHIPPED_TRAITS: readonly string[] = [
  "optimistic",
  "pessimistic",
  "humorous",
  "impolite",
  "sycophantic",
  "apathetic",
];
