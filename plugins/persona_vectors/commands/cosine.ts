/**
 * `persona_vectors cosine`: cosine matrices of several vectors per layer and averaged over layers
 * (spec B9.1-2), as JSON and heatmap SVGs, with each pair classified orthogonal / opposite /
 * related.
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
  type NamedMatrix,
} from "../geometry.ts";
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
    "Cosine matrices per layer and averaged over layers, heatmap SVGs, orthogonal/opposite classes.",
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
    const averaged = averagedCosineMatrix(vectors, Array.from({ length: L }, (_, i) => i + 1));
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
      cosineHeatmapSpec(averaged, `Cosine similarity averaged over layers 1..${L}`),
    );
    images.push(avgPath);
    const data = join(out, "cosine.json");
    const doc = {
      names: Object.keys(vectors),
      thresholds: th,
      layers: byLayer.map((m, l) => ({ layer: l, matrix: m.matrix })),
      averaged: { matrix: averaged.matrix, pairs: pairs(averaged) },
      pairsByLayer: Object.fromEntries(layers.map((l) => [l, pairs(byLayer[l])])),
    };
    await writeJsonAtomic(data, doc);
    ctx.log(`wrote ${images.length} heatmaps`);
    emit(ctx, { data, images, averaged: doc.averaged }, [
      `wrote ${data} and ${images.length} SVG heatmaps (rendered by core/report) in ${out}`,
      ...pairs(averaged).map((p) =>
        `  ${p.a} ~ ${p.b}: ${p.cos.toFixed(3)} (${p.class}, averaged)`
      ),
    ]);
    return 0;
  },
};
