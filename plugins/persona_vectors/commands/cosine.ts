/**
 * `persona_vectors cosine`: cosine matrices of several vectors per layer and over layers
 * (spec B9.1-2), as JSON and heatmap SVGs, with each pair classified orthogonal / opposite /
 * related. Two averages, named apart: `mean_of_layer_cosines` (the element-wise mean of the
 * per-layer cosine matrices over 1..L) and `cosine_of_layer_means` (the cosine of each vector's
 * mean over 1..L, the fork's `v.mean(0)`, `meanVectorCosineMatrix`). Also a 2-D PCA of the vectors
 * per drawn layer and of the layer means.
 *
 * @module
 */

import { basename, extname, join } from "node:path";
import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { UsageError } from "../../../core/errors.ts";
import { writeJsonAtomic } from "../../../core/util/atomic.ts";
import {
  averagedCosineMatrix,
  classifyCosine,
  cosineMatricesByLayer,
  meanVectorCosineMatrix,
  type NamedMatrix,
} from "../geometry.ts";
import { pcaSpec } from "../multi_persona_plots.ts";
import { pca2d, pcaRows } from "../pca.ts";
import { cosineHeatmapSpec, writeSvg } from "../heatmap.ts";
import type { LayerVectors } from "../hidden_states.ts";
import { loadVectorFile } from "../vector_io.ts";
import { emit, need, num, str } from "./common.ts";
import { numberList } from "./sweep.ts";

/**
 * The command.
 *
 * @example
 * ```sh
 * deno task dramatis persona_vectors cosine --vector optimistic=runs/opt.safetensors \
 *   --vector pessimistic=runs/pes.safetensors --layers 20 --out runs/geometry
 * ```
 */
export const cosineCommand: PluginCommand = {
  name: "cosine",
  description:
    "Cosine matrices per layer, the mean of layer cosines and the cosine of layer means, heatmap SVGs, a 2-D PCA, orthogonal/opposite classes.",
  flags: {
    vector: {
      type: "string",
      multiple: true,
      description: "name=path or path (repeatable)",
      required: true,
    },
    layers: {
      type: "string",
      description: "layers to draw (default all 1..L); JSON always has every layer",
    },
    "orthogonal-below": {
      type: "number",
      description: "|cos| below this is orthogonal",
      default: 0.3,
    },
    "opposite-below": { type: "number", description: "cos below this is opposite", default: -0.5 },
    out: { type: "string", description: "output directory", required: true },
  },
  async run(args, ctx) {
    const out = need(args, "out", "cosine");
    const vectors: Record<string, LayerVectors> = {};
    for (const spec of (args.flags.vector as string[] | undefined) ?? []) {
      const eq = spec.indexOf("=");
      const [name, path] = eq > 0
        ? [spec.slice(0, eq), spec.slice(eq + 1)]
        : [basename(spec, extname(spec)), spec];
      vectors[name] = await loadVectorFile(path);
    }
    if (Object.keys(vectors).length < 2) {
      throw new UsageError("persona_vectors cosine: give two or more --vector");
    }
    const byLayer = cosineMatricesByLayer(vectors);
    const L = byLayer.length - 1;
    const layers = str(args, "layers")
      ? numberList(str(args, "layers"), "layers")
      : Array.from({ length: L }, (_, i) => i + 1);
    for (const l of layers) {
      if (!Number.isInteger(l) || l < 1 || l > L) {
        throw new UsageError(`--layers has ${l}; use 1..${L}`);
      }
    }
    const allLayers = Array.from({ length: L }, (_, i) => i + 1);
    const averaged = averagedCosineMatrix(vectors, allLayers);
    const ofMeans = meanVectorCosineMatrix(vectors, allLayers);
    const th = {
      orthogonalBelow: num(args, "orthogonal-below") ?? 0.3,
      oppositeBelow: num(args, "opposite-below") ?? -0.5,
    };
    const pairs = (m: NamedMatrix) =>
      m.names.flatMap((a, i) =>
        m.names.slice(i + 1).map((b, k) => {
          const cos = m.matrix[i][i + 1 + k];
          return { a, b, cos, class: classifyCosine(cos, th) };
        })
      );
    await Deno.mkdir(out, { recursive: true });
    const images: string[] = [];
    for (const l of layers) {
      const p = join(out, `cosine_layer${l}.svg`);
      await writeSvg(p, cosineHeatmapSpec(byLayer[l], `Cosine similarity, layer ${l}`));
      images.push(p);
    }
    const avgPath = join(out, "cosine_averaged.svg");
    await writeSvg(
      avgPath,
      cosineHeatmapSpec(averaged, `Mean of per-layer cosines, layers 1..${L}`),
    );
    images.push(avgPath);
    const meansPath = join(out, "cosine_of_layer_means.svg");
    await writeSvg(
      meansPath,
      cosineHeatmapSpec(ofMeans, `Cosine of the layer-mean vectors, layers 1..${L}`),
    );
    images.push(meansPath);
    const pca: Record<string, ReturnType<typeof pca2d>> = {};
    for (const l of [...layers, "mean" as const]) {
      const view = pca2d(pcaRows(vectors, l));
      pca[String(l)] = view;
      const p = join(out, l === "mean" ? "pca_layer_means.svg" : `pca_layer${l}.svg`);
      await writeSvg(
        p,
        pcaSpec(
          view,
          l === "mean" ? `PCA of the layer-mean vectors` : `PCA of the vectors, layer ${l}`,
        ),
      );
      images.push(p);
    }
    const data = join(out, "cosine.json");
    const doc = {
      names: Object.keys(vectors),
      thresholds: th,
      layers: byLayer.map((m, l) => ({ layer: l, matrix: m.matrix })),
      averaged: { matrix: averaged.matrix, pairs: pairs(averaged) },
      mean_of_layer_cosines: { matrix: averaged.matrix, pairs: pairs(averaged) },
      cosine_of_layer_means: { matrix: ofMeans.matrix, pairs: pairs(ofMeans) },
      pca,
      pairsByLayer: Object.fromEntries(layers.map((l) => [l, pairs(byLayer[l])])),
    };
    await writeJsonAtomic(data, doc);
    ctx.log(`wrote ${images.length} heatmaps`);
    emit(ctx, { data, images, averaged: doc.averaged }, [
      `wrote ${data} and ${images.length} SVG heatmaps (rendered by core/report) in ${out}`,
      ...pairs(averaged).map((p) =>
        `  ${p.a} ~ ${p.b}: ${p.cos.toFixed(3)} (${p.class}, mean of layer cosines)`
      ),
    ]);
    return 0;
  },
};
