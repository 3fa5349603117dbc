/**
 * The mapped pages onnxruntime keeps of a quantized graph's data files once it has repacked the
 * weights: what an engine hands back to the system when its session opens.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { decodeModel, type DeferredData } from "../onnx/deserialize.ts";
import { isLazy } from "../onnx/ir.ts";

/** Linux's page size: onnxruntime maps an external tensor from the page its data starts in. */
const PAGE = 4096;

/**
 * Which mapped pages of a quantized graph's data files onnxruntime keeps besides its own copies,
 * as a test on a mapped file's path and the file offset its mapping starts at (for
 * `SessionOptions.pageOut`); undefined when the graph keeps no external tensor.
 *
 * onnxruntime maps each external tensor of the data file on its own. A `MatMulNBits` weight
 * (input 1) that only such products read is repacked into a private copy and unmapped. Every
 * other external tensor stays mapped for the session's life, and the pages that opening the
 * session read stay resident: the block scales (which the CPU kernel also packs into its copy,
 * 6% of the weights at blocks of 128, and does not read again on AVX-512), the tied embedding
 * table the lm_head was packed from, norms. Those are the pages named here. Products with a group
 * index or float zero points are not repacked; their inputs are read at every run and are left
 * out. Measured at the Qwen2.5-1.5B shape in int4: 46 of 799 MB of the data file stayed resident
 * after opening, 5 MB of it read again by decoding 8 tokens.
 *
 * @example
 * ```ts ignore
 * import { keptWeightPages } from "./kept_pages.ts";
 * const kept = await keptWeightPages(".cache/graphs/abc/model.onnx");
 * ```
 */
export async function keptWeightPages(
  modelPath: string,
): Promise<((path: string, fileOffset: number) => boolean) | undefined> {
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
  const kept = new Map<string, Set<number>>();
  for (const t of model.graph.initializers) {
    if (!isLazy(t.data) || !("ref" in t.data) || repackedOnly.get(t.name) !== false) continue;
    const { location, offset } = (t.data as DeferredData).ref;
    let file: string;
    try {
      file = await Deno.realPath(join(dirname(modelPath), location));
    } catch {
      continue;
    }
    if (!kept.has(file)) kept.set(file, new Set());
    kept.get(file)!.add(offset - offset % PAGE);
  }
  if (kept.size === 0) return undefined;
  return (path, fileOffset) => kept.get(path)?.has(fileOffset) ?? false;
}
