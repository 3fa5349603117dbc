/**
 * `persona_vectors interference`: cross-trait interference (spec B9.3). For each trait A that a
 * model was finetuned on and each other trait B,
 * `relative(A→B) = (score_B(ft_A) − score_B(base)) / (score_A(ft_A) − score_A(base))`, next to
 * `cos(v_A[L], v_B[L])` and a least-squares fit of one against the other.
 *
 * @module
 */

import { writeJsonAtomic } from "../../../core/util/atomic.ts";
import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { UsageError } from "../../../core/errors.ts";
import { linearFit, relativeTraitScore } from "../geometry.ts";
import { layerRow } from "../hidden_states.ts";
import { cosineSimilarity, mean } from "../projection.ts";
import { readRows } from "../rows_file.ts";
import { loadVectorFile } from "../vector_io.ts";
import { emit, need, num, str } from "./common.ts";

/** A trait score: a number, or a judged rollout file whose trait column is averaged. */
type ScoreRef = number | string;

/** The `--scores` file. */
export interface InterferenceScores {
  /** Trait → score of the base model. */
  base: Record<string, ScoreRef>;
  /** Finetuned-on trait A → (trait B → score of the model finetuned on A, last checkpoint). */
  finetuned: Record<string, Record<string, ScoreRef>>;
  /** Optional trait → vector file, for the cosine axis. */
  vectors?: Record<string, string>;
  layer?: number;
}

async function scoreOf(ref: ScoreRef, trait: string, where: string): Promise<number> {
  if (typeof ref === "number") return ref;
  const { rows } = await readRows(ref, trait);
  const xs = rows.map((r) => r.trait).filter((x): x is number => x !== null);
  if (xs.length === 0) {
    throw new UsageError(
      `${where}: ${ref} has no non-null "${trait}" scores; judge it first`,
      "E_DATA",
    );
  }
  return mean(xs);
}

/**
 * The command.
 *
 * @example
 * ```sh
 * deno task dramatis persona_vectors interference --scores runs/interference.json --out runs/interference_result.json
 * ```
 */
export const interferenceCommand: PluginCommand = {
  name: "interference",
  description:
    "Relative trait scores A→B of finetuned checkpoints, against vector cosines, with a linear fit.",
  flags: {
    scores: {
      type: "string",
      description:
        "JSON {base: {trait: score|file}, finetuned: {A: {B: score|file}}, vectors?: {trait: path}, layer?}",
      required: true,
    },
    layer: {
      type: "number",
      description: "layer of the cosine (overrides the file's; default 20)",
    },
    out: { type: "string", description: "write the result JSON here" },
  },
  async run(args, ctx) {
    const path = need(args, "scores", "interference");
    const doc = JSON.parse(await Deno.readTextFile(path)) as InterferenceScores;
    if (!doc.base || !doc.finetuned) {
      throw new UsageError(`${path} needs "base" and "finetuned" objects`, "E_DATA");
    }
    const layer = num(args, "layer") ?? doc.layer ?? 20;
    const vectors: Record<string, Float32Array> = {};
    for (const [t, p] of Object.entries(doc.vectors ?? {})) {
      vectors[t] = layerRow(await loadVectorFile(p), layer);
    }
    const pairs = [];
    for (const [a, scores] of Object.entries(doc.finetuned)) {
      if (!(a in doc.base) || !(a in scores)) {
        throw new UsageError(
          `${path}: trait ${a} needs a base score and its own finetuned score`,
          "E_DATA",
        );
      }
      const sa = {
        base: await scoreOf(doc.base[a], a, path),
        finetuned: await scoreOf(scores[a], a, path),
      };
      for (const [b, ref] of Object.entries(scores)) {
        if (b === a) continue;
        if (!(b in doc.base)) {
          throw new UsageError(`${path}: trait ${b} has no base score`, "E_DATA");
        }
        const sb = {
          base: await scoreOf(doc.base[b], b, path),
          finetuned: await scoreOf(ref, b, path),
        };
        const relative = relativeTraitScore(sa, sb);
        const cos = vectors[a] && vectors[b] ? cosineSimilarity(vectors[a], vectors[b]) : null;
        pairs.push({ a, b, relative, cos, scoreA: sa, scoreB: sb });
      }
    }
    const usable = pairs.filter((p) => p.relative !== null && p.cos !== null);
    const fit = usable.length >= 2
      ? linearFit(usable.map((p) => p.cos!), usable.map((p) => p.relative!))
      : null;
    const result = { layer, pairs, fit };
    const out = str(args, "out");
    if (out) await writeJsonAtomic(out, result);
    ctx.log(`${pairs.length} ordered pairs`);
    const f = (x: number | null) => (x === null ? "—" : x.toFixed(3));
    emit(ctx, { ...result, ...(out ? { out } : {}) }, [
      ...pairs.map((p) => `  ${p.a} → ${p.b}: relative ${f(p.relative)}, cos ${f(p.cos)}`),
      fit
        ? `fit: relative = ${fit.slope.toFixed(3)}·cos + ${fit.intercept.toFixed(3)} (r = ${
          fit.r.toFixed(3)
        }, n = ${fit.n})`
        : "fit: needs 2+ pairs with cosines",
    ]);
    return 0;
  },
};
