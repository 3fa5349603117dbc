/**
 * The trait artifact (spec B1): five contrastive pos/neg system instructions, 40 questions (the
 * first 20 for extraction, the last 20 for evaluation) and a judge template with the literal
 * placeholders `{question}` and `{answer}`.
 *
 * It also reads the upstream split files as released (`trait_data_extract/<trait>.json` and
 * `trait_data_eval/<trait>.json`, each `{instruction, questions, eval_prompt}` without name or
 * description): given either half, {@link loadTraitArtifact} finds the other and merges them,
 * keeping each half's own instructions, questions and judge template in `halves` (released `APE`
 * has different instructions in its halves and 36 questions in each; released `evil` has a
 * different `eval_prompt` in each half). The trait name is the file name (`APE`,
 * `anti-sycophantic`, `highly_disagreeable`). Question counts are taken as released.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { z } from "zod";
import { withCode } from "../../core/errors.ts";
import { parseJsonText } from "../../core/train/chat_data.ts";

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
/** The upstream split-file format (extract or eval half). */
export const TraitSplitSchema = z.object({
  instruction: z.array(InstructionPairSchema).min(1),
  questions: z.array(z.string().min(1)).min(1),
  eval_prompt: evalPrompt,
});
/** One upstream split file. */
export type TraitSplit = z.infer<typeof TraitSplitSchema>;

/** Trait names: letters and digits, words joined by `_` or `-` (`APE`, `anti-sycophantic`). */
export const TRAIT_NAME = /^[A-Za-z][A-Za-z0-9]*([_-][A-Za-z0-9]+)*$/;

/**
 * A stored trait artifact (one file per trait under `data/traits/`), or the merge of the two
 * upstream halves.
 *
 * @example
 * ```ts
 * import { TraitArtifactSchema } from "./trait_artifact.ts";
 * console.log(Object.keys(TraitArtifactSchema.shape).includes("halves")); // true
 * ```
 */
export const TraitArtifactSchema = z.object({
  /**
   * Trait name as the upstream files spell it (`optimistic`, `APE`, `anti-sycophantic`); a variant
   * may carry a suffix `_k` (e.g. `optimistic_2`).
   */
  trait: z.string().regex(
    TRAIT_NAME,
    "letters and digits, words joined by _ or - (e.g. optimistic, APE, anti-sycophantic)",
  ),
  /** One-sentence definition used in prompts (the upstream split files have none). */
  description: z.string().min(1).optional(),
  /** Assistant name for negative rollouts (default "helpful"). */
  antonym: z.string().min(1).optional(),
  instruction: z.array(InstructionPairSchema).min(1),
  /** Native artifacts: 40 (first half extraction, second half evaluation). */
  questions: z.array(z.string().min(1)).min(2),
  /** The judge template (the eval half's, when the halves differ). */
  eval_prompt: evalPrompt,
  /** The upstream halves as released, when the artifact was read from split files. */
  halves: z.object({ extract: TraitSplitSchema, eval: TraitSplitSchema }).optional(),
});
/** A trait artifact. */
export type TraitArtifact = z.infer<typeof TraitArtifactSchema>;

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
        `instruction: {pos, neg} pairs, questions: strings, eval_prompt with {question} and ` +
        `{answer}}, or an upstream split file (trait_data_extract/<trait>.json with ` +
        `{instruction, questions, eval_prompt}) next to its trait_data_eval/ half`,
    ),
    "E_DATA",
  );
}

function parseSplit(json: unknown, source: string): TraitSplit {
  const r = TraitSplitSchema.safeParse(json);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join(
    "; ",
  );
  throw withCode(
    new TypeError(
      `${source} is not a valid upstream trait split file (${issues}); expected {instruction: ` +
        `{pos, neg} pairs, questions: strings, eval_prompt with {question} and {answer}}`,
    ),
    "E_DATA",
  );
}

async function readJson(path: string): Promise<unknown> {
  return parseJsonText(await Deno.readTextFile(path), path);
}

/**
 * Merges the two upstream halves of a trait into one artifact, each half kept as released.
 *
 * @example
 * ```ts
 * import { mergeTraitHalves } from "./trait_artifact.ts";
 * const half = { instruction: [{ pos: "p", neg: "n" }], questions: ["q1"],
 *   eval_prompt: "{question} {answer}" };
 * const a = mergeTraitHalves("APE", half, { ...half, questions: ["q2"] });
 * console.log(a.questions, a.halves?.eval.questions); // ["q1", "q2"] ["q2"]
 * ```
 */
export function mergeTraitHalves(
  trait: string,
  extract: TraitSplit,
  evaluation: TraitSplit,
): TraitArtifact {
  return parseTraitArtifact({
    trait,
    instruction: extract.instruction,
    questions: [...extract.questions, ...evaluation.questions],
    eval_prompt: evaluation.eval_prompt,
    halves: { extract, eval: evaluation },
  }, `trait ${trait}`);
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
  const json = await readJson(path);
  const folder = basename(dirname(path));
  const isHalf = json !== null && typeof json === "object" && !("trait" in json) &&
    /^trait_data_(extract|eval)$/.test(folder);
  if (!isHalf) return parseTraitArtifact(json, path);
  const trait = basename(path).replace(/\.json$/i, "");
  const other = folder === "trait_data_extract" ? "trait_data_eval" : "trait_data_extract";
  const otherPath = join(dirname(dirname(path)), other, basename(path));
  const exists = await Deno.stat(otherPath).then((s) => s.isFile, () => false);
  if (!exists) {
    throw withCode(
      new RangeError(
        `${path} is the ${
          folder.slice(11)
        } half of trait "${trait}" but ${otherPath} (the other half) is missing; keep the ` +
          `released layout trait_data_extract/<trait>.json + trait_data_eval/<trait>.json`,
      ),
      "E_DATA",
    );
  }
  const mine = parseSplit(json, path);
  const theirs = parseSplit(await readJson(otherPath), otherPath);
  return folder === "trait_data_extract"
    ? mergeTraitHalves(trait, mine, theirs)
    : mergeTraitHalves(trait, theirs, mine);
}

/**
 * How the halves of an artifact read from split files differ (for the commands to report), or
 * an empty list.
 *
 * @example
 * ```ts ignore
 * import { halfDifferences, loadTraitArtifact } from "./trait_artifact.ts";
 * const a = await loadTraitArtifact("../shared/upstream/persona_vectors/data_generation/trait_data_extract/evil.json");
 * console.log(halfDifferences(a)); // ["eval_prompt differs: each half is judged with its own"]
 * ```
 */
export function halfDifferences(artifact: TraitArtifact): string[] {
  const h = artifact.halves;
  if (!h) return [];
  const out: string[] = [];
  if (JSON.stringify(h.extract.instruction) !== JSON.stringify(h.eval.instruction)) {
    out.push("instructions differ: each half's rollouts use its own");
  }
  if (h.extract.eval_prompt !== h.eval.eval_prompt) {
    out.push("eval_prompt differs: each half is judged with its own");
  }
  if (h.extract.questions.length !== h.eval.questions.length || h.extract.questions.length !== 20) {
    out.push(
      `question counts as released: ${h.extract.questions.length} extract, ${h.eval.questions.length} eval`,
    );
  }
  return out;
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
  if (artifact.halves) return artifact.halves;
  const base = { instruction: artifact.instruction, eval_prompt: artifact.eval_prompt };
  const half = Math.ceil(artifact.questions.length / 2);
  return {
    extract: { ...base, questions: artifact.questions.slice(0, half) },
    eval: { ...base, questions: artifact.questions.slice(half) },
  };
}

/**
 * The base name of a trait, without a variant suffix (`anxious_3` → `anxious`); judge columns
 * and default assistant names use it. Only a trailing `_<digits>` is a variant suffix, so
 * `highly_disagreeable` stays whole.
 *
 * @example
 * ```ts
 * import { traitBaseName } from "./trait_artifact.ts";
 * console.log(traitBaseName("confident_2"), traitBaseName("highly_disagreeable")); // "confident" "highly_disagreeable"
 * ```
 */
export function traitBaseName(trait: string): string {
  return trait.replace(/_[0-9]+$/, "");
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
