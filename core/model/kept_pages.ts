/**
 * The mapped pages onnxruntime keeps of a quantized graph's data files once it has repacked the
 * weights: what an engine hands back to the system when its session opens.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { decodeModel, isDeferred } from "../onnx/deserialize.ts";
import type { FileRanges } from "../util/resident.ts";

/**
 * The byte ranges of a quantized graph's data files that onnxruntime keeps mapped besides its
 * own repacked copies, by the data file's real path (for `SessionOptions.pageOut`); undefined
 * when the graph keeps none. For sessions whose `MatMulNBits` products compute with int8
 * activations (`accuracy_level` 4, the engine's default), the only ones that pack the scales
 * into their copy.
 *
 * onnxruntime maps each external tensor of the data file on its own. A `MatMulNBits` weight
 * (input 1) that only such products read is repacked into a private copy and unmapped. Every
 * other external tensor stays mapped for the session's life, and the pages that opening the
 * session read stay resident: the block scales (at `accuracy_level` 4 the CPU kernel packs them
 * into its copy, 6% of the weights at blocks of 128, and on AVX-512 does not read the originals
 * again), the tied embedding table the lm_head was packed from, norms. Those are the ranges named
 * here. Products with a group index or float zero points are not repacked; their inputs are read
 * at every run and are left out. Measured at the Qwen2.5-1.5B shape in int4: 46 of 799 MB of the
 * data file stayed resident after opening, 5 MB of it read again by decoding 8 tokens.
 *
 * @example
 * ```ts ignore
 * import { keptWeightPages } from "./kept_pages.ts";
 * const kept = await keptWeightPages(".cache/graphs/abc/model.onnx");
 * ```
 */
export async function keptWeightPages(modelPath: string): Promise<FileRanges | undefined> {
  const model = decodeModel(await Deno.readFile(modelPath), { external: "defer" });
  const dtypes = new Map(model.graph.initializers.map((t) => [t.name, t.dtype]));
  // Whether each tensor is read only as a weight onnxruntime repacks; null: a kernel reads it
  // as it lies at every run (leave its pages alone).
  const repackedOnly = new Map<string, boolean | null>();
  for (const n of model.graph.nodes) {
    const nbits = n.opType === "MatMulNBits" && n.domain === "com.microsoft";
    // The CPU kernel does not repack with a group index or float zero points.
    const unpacked = nbits &&
      (!!n.inputs[4] || (!!n.inputs[3] && dtypes.get(n.inputs[3]) !== "uint8"));
    n.inputs.forEach((name, i) => {
      const before = repackedOnly.get(name);
      if (unpacked || before === null) repackedOnly.set(name, null);
      else repackedOnly.set(name, (before ?? true) && nbits && i === 1);
    });
  }
  // Ranges by data file location, then by the file's real path (what /proc/self/maps shows).
  const byLocation = new Map<string, [number, number][]>();
  for (const t of model.graph.initializers) {
    if (!isDeferred(t.data) || repackedOnly.get(t.name) !== false) continue;
    const { location, offset, length } = t.data.ref;
    if (!byLocation.has(location)) byLocation.set(location, []);
    byLocation.get(location)!.push([offset, offset + length]);
  }
  const kept = new Map<string, [number, number][]>();
  for (const [location, ranges] of byLocation) {
    const file = await Deno.realPath(join(dirname(modelPath), location)).catch(() => undefined);
    if (file) kept.set(file, [...(kept.get(file) ?? []), ...ranges]);
  }
  if (kept.size === 0) return undefined;
  // Sorted, with touching and overlapping ranges (a tied table read twice) joined.
  for (const [file, ranges] of kept) {
    ranges.sort((a, b) => a[0] - b[0]);
    const joined: [number, number][] = [];
    for (const r of ranges) {
      const last = joined[joined.length - 1];
      if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
      else joined.push([r[0], r[1]]);
    }
    kept.set(file, joined);
  }
  return kept;
}
