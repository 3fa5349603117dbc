/**
 * `persona_vectors interference`: cross-trait interference (spec B9.3). For each trait A that a
 * model was finetuned on and each other trait B,
 * `relative(A→B) = (score_B(ft_A) − score_B(base)) / (score_A(ft_A) − score_A(base))`, next to
 * `cos(v_A[L], v_B[L])` and a least-squares fit of one against the other; and the finetuning-shift
 * axis: `relative_shift(A→B) = shift_B(ft_A) / shift_A(ft_A)` (the shift of the model finetuned on
 * A along v_B, relative to its shift along v_A; the base's own shift is 0 by definition), with its
 * own fit. Scores and shifts come from a `--scores` file or from `eval-checkpoints` output (the
 * last checkpoint of each run, against the base row). With `--out`, the two cross-persona plots
 * (cosine vs relative trait score, cosine vs relative finetuning shift) are written beside it.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { writeJsonAtomic } from "../../../core/util/atomic.ts";
import { writeSvg } from "../heatmap.ts";
import { pairScatterSpec } from "../multi_persona_plots.ts";
import type { CheckpointRef, CheckpointRow } from "./eval_checkpoints.ts";
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
  /** Optional finetuned-on trait A → (trait B → finetuning shift of ft_A along v_B). */
  shifts?: Record<string, Record<string, number>>;
}

/**
 * Builds the scores document from `eval-checkpoints` output: the base row gives the base scores,
 * the last checkpoint of every run whose trained-on trait is known gives the finetuned scores and
 * shifts (`shift[B]` on the replies to B's questions).
 *
 * @example
 * ```ts ignore
 * import { scoresFromCheckpoints } from "./interference.ts";
 * const doc = scoresFromCheckpoints(JSON.parse(await Deno.readTextFile("runs/ckpt/checkpoints.json")), {});
 * ```
 */
export function scoresFromCheckpoints(
  doc: { rows: CheckpointRow[]; checkpoints: CheckpointRef[] },
  trainedOn: Record<string, string>,
): InterferenceScores {
  const base: Record<string, number> = {};
  for (const r of doc.rows.filter((r) => r.run === "base")) {
    if (r.score !== null) base[r.trait] = r.score;
  }
  const finetuned: Record<string, Record<string, number>> = {};
  const shifts: Record<string, Record<string, number>> = {};
  const runs = [...new Set(doc.rows.map((r) => r.run))].filter((r) => r !== "base");
  for (const run of runs) {
    const a = trainedOn[run] ?? doc.checkpoints.find((c) => c.run === run)?.trainedOn;
    if (!a) continue;
    const last = Math.max(...doc.rows.filter((r) => r.run === run).map((r) => r.step));
    for (const r of doc.rows.filter((r) => r.run === run && r.step === last)) {
      if (r.score !== null) (finetuned[a] ??= {})[r.trait] = r.score;
      const sh = r.shift[r.trait];
      if (sh !== null && sh !== undefined) (shifts[a] ??= {})[r.trait] = sh;
    }
  }
  return { base, finetuned, shifts };
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
    "Relative trait scores and finetuning shifts A→B of finetuned checkpoints, against vector cosines, with linear fits and scatter plots.",
  flags: {
    scores: {
      type: "string",
      description:
        "JSON {base: {trait: score|file}, finetuned: {A: {B: score|file}}, shifts?: {A: {B: shift}}, vectors?: {trait: path}, layer?}",
    },
    checkpoints: {
      type: "string",
      description: "instead of --scores: checkpoints.json written by eval-checkpoints",
    },
    "trained-on": {
      type: "string",
      multiple: true,
      description: "run=trait for --checkpoints runs without a finetune.json trait (repeatable)",
    },
    vector: {
      type: "string",
      multiple: true,
      description: "trait=path of a vector for the cosine axis (repeatable; adds to the file's)",
    },
    layer: {
      type: "number",
      description: "layer of the cosine (overrides the file's; default 20)",
    },
    out: { type: "string", description: "write the result JSON here" },
  },
  async run(args, ctx) {
    let path = str(args, "scores");
    let doc: InterferenceScores;
    if (path) {
      doc = JSON.parse(await Deno.readTextFile(path)) as InterferenceScores;
    } else {
      path = need(args, "checkpoints", "interference");
      const ck = JSON.parse(await Deno.readTextFile(path));
      if (!Array.isArray(ck.rows) || !Array.isArray(ck.checkpoints)) {
        throw new UsageError(
          `${path} is not eval-checkpoints output (rows, checkpoints)`,
          "E_DATA",
        );
      }
      const trainedOn: Record<string, string> = {};
      for (const spec of (args.flags["trained-on"] as string[] | undefined) ?? []) {
        const eq = spec.indexOf("=");
        if (eq <= 0) throw new UsageError(`--trained-on ${spec}: write run=trait`);
        trainedOn[spec.slice(0, eq)] = spec.slice(eq + 1);
      }
      doc = { ...scoresFromCheckpoints(ck, trainedOn), layer: ck.layer };
    }
    if (!doc.base || !doc.finetuned) {
      throw new UsageError(`${path} needs "base" and "finetuned" objects`, "E_DATA");
    }
    const layer = num(args, "layer") ?? doc.layer ?? 20;
    const vectorPaths: Record<string, string> = { ...(doc.vectors ?? {}) };
    for (const spec of (args.flags.vector as string[] | undefined) ?? []) {
      const eq = spec.indexOf("=");
      if (eq <= 0) throw new UsageError(`--vector ${spec}: write trait=path`);
      vectorPaths[spec.slice(0, eq)] = spec.slice(eq + 1);
    }
    const vectors: Record<string, Float32Array> = {};
    for (const [t, p] of Object.entries(vectorPaths)) {
      vectors[t] = layerRow(await loadVectorFile(p), layer);
    }
    // A --scores file must be complete; a checkpoint table may lack scores (no judge, or null
    // verdicts) and still give the shift axis.
    const strict = Boolean(str(args, "scores"));
    const pairs = [];
    const finetunedOn = [
      ...new Set([...Object.keys(doc.finetuned), ...Object.keys(doc.shifts ?? {})]),
    ];
    for (const a of finetunedOn) {
      const scores = doc.finetuned[a] ?? {};
      if (strict && (!(a in doc.base) || !(a in scores))) {
        throw new UsageError(
          `${path}: trait ${a} needs a base score and its own finetuned score`,
          "E_DATA",
        );
      }
      const sa = a in doc.base && a in scores
        ? {
          base: await scoreOf(doc.base[a], a, path),
          finetuned: await scoreOf(scores[a], a, path),
        }
        : null;
      const others = [...new Set([...Object.keys(scores), ...Object.keys(doc.shifts?.[a] ?? {})])]
        .filter((b) => b !== a);
      for (const b of others) {
        if (strict && !(b in doc.base)) {
          throw new UsageError(`${path}: trait ${b} has no base score`, "E_DATA");
        }
        const sb = b in doc.base && b in scores
          ? {
            base: await scoreOf(doc.base[b], b, path),
            finetuned: await scoreOf(scores[b], b, path),
          }
          : null;
        const relative = sa && sb ? relativeTraitScore(sa, sb) : null;
        const cos = vectors[a] && vectors[b] ? cosineSimilarity(vectors[a], vectors[b]) : null;
        const shiftA = doc.shifts?.[a]?.[a];
        const shiftB = doc.shifts?.[a]?.[b];
        const relativeShift = shiftA !== undefined && shiftB !== undefined && shiftA !== 0
          ? shiftB / shiftA
          : null;
        pairs.push({
          a,
          b,
          relative,
          relativeShift,
          cos,
          scoreA: sa,
          scoreB: sb,
          ...(shiftB !== undefined ? { shiftB, shiftA: shiftA ?? null } : {}),
        });
      }
    }
    const usable = pairs.filter((p) => p.relative !== null && p.cos !== null);
    const fit = usable.length >= 2
      ? linearFit(usable.map((p) => p.cos!), usable.map((p) => p.relative!))
      : null;
    const usableShift = pairs.filter((p) => p.relativeShift !== null && p.cos !== null);
    const shiftFit = usableShift.length >= 2
      ? linearFit(usableShift.map((p) => p.cos!), usableShift.map((p) => p.relativeShift!))
      : null;
    const out = str(args, "out");
    const images: Record<string, string> = {};
    if (out) {
      images.relative_score = join(dirname(out), "cosine_vs_relative_trait_score.svg");
      images.finetuning_shift = join(dirname(out), "cosine_vs_finetuning_shift.svg");
      await writeSvg(
        images.relative_score,
        pairScatterSpec(
          usable.map((p) => ({ a: p.a, b: p.b, cos: p.cos!, value: p.relative! })),
          `Cosine similarity vs relative trait score (layer ${layer})`,
          "relative trait score A→B",
          fit,
        ),
      );
      await writeSvg(
        images.finetuning_shift,
        pairScatterSpec(
          usableShift.map((p) => ({ a: p.a, b: p.b, cos: p.cos!, value: p.relativeShift! })),
          `Cosine similarity vs relative finetuning shift (layer ${layer})`,
          "relative finetuning shift A→B",
          shiftFit,
        ),
      );
    }
    const result = { layer, pairs, fit, shiftFit, images };
    if (out) await writeJsonAtomic(out, result);
    ctx.log(`${pairs.length} ordered pairs`);
    const f = (x: number | null) => (x === null ? "—" : x.toFixed(3));
    emit(ctx, { ...result, ...(out ? { out } : {}) }, [
      ...pairs.map((p) =>
        `  ${p.a} → ${p.b}: relative ${f(p.relative)}, relative shift ${f(p.relativeShift)}, cos ${
          f(p.cos)
        }`
      ),
      fit
        ? `fit: relative = ${fit.slope.toFixed(3)}·cos + ${fit.intercept.toFixed(3)} (r = ${
          fit.r.toFixed(3)
        }, n = ${fit.n})`
        : "fit: needs 2+ pairs with cosines",
      shiftFit
        ? `shift fit: relative shift = ${shiftFit.slope.toFixed(3)}·cos + ${
          shiftFit.intercept.toFixed(3)
        } (r = ${shiftFit.r.toFixed(3)}, n = ${shiftFit.n})`
        : "shift fit: needs 2+ pairs with shifts and cosines",
    ]);
    return 0;
  },
};
