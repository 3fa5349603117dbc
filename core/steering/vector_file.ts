/**
 * Steering vectors on disk (persona vectors): a safetensors file with one float32 tensor `vector` of shape
 * `[L+1, d]` and string metadata (model, trait, type, sample counts, thresholds, layer convention).
 *
 * @module
 */

import { withCode } from "../errors.ts";

/** A per-layer direction set (a persona vector): `[rows = L+1][cols = d]`, row-major. */
export interface LayerVectors {
  rows: number;
  cols: number;
  data: Float32Array;
}

/** The layer convention written into every vector file. */
export const LAYER_CONVENTION =
  "hf_hidden_states: row 0 = token embeddings, row l = residual stream after decoder block l-1 " +
  "(hook layers.{l-1}.out); steer with layer l in 1..L";

/** What a vector file records about its making. */
export interface VectorMetadata {
  model: string;
  trait: string;
  type: "prompt_avg" | "response_avg" | "prompt_last" | string;
  n_pos: number;
  n_neg: number;
  threshold: number;
  coherence_threshold?: number;
  [extra: string]: string | number | undefined;
}

/**
 * The safetensors `__metadata__` map (strings only) for a vector.
 *
 * @example
 * ```ts
 * import { vectorMetadata } from "./vector_file.ts";
 * const m = vectorMetadata({ model: "tiny", trait: "optimistic", type: "response_avg", n_pos: 10,
 *   n_neg: 12, threshold: 50 }, { rows: 3, cols: 4 });
 * console.log(m.shape); // "[3,4]"
 * ```
 */
export function vectorMetadata(
  meta: VectorMetadata,
  shape: { rows: number; cols: number },
): Record<string, string> {
  const out: Record<string, string> = {
    format: "dramatis.persona_vector.v1",
    layer_convention: LAYER_CONVENTION,
    shape: `[${shape.rows},${shape.cols}]`,
  };
  for (const [k, v] of Object.entries(meta)) if (v !== undefined) out[k] = String(v);
  return out;
}

/**
 * Encodes a vector as safetensors bytes (8-byte little-endian header length, JSON header, data).
 *
 * @example
 * ```ts
 * import { encodeVectorFile } from "./vector_file.ts";
 * const bytes = encodeVectorFile({ rows: 2, cols: 2, data: new Float32Array(4) }, { model: "m",
 *   trait: "t", type: "response_avg", n_pos: 1, n_neg: 1, threshold: 50 });
 * console.log(bytes.length > 16); // true
 * ```
 */
export function encodeVectorFile(vector: LayerVectors, meta: VectorMetadata): Uint8Array {
  if (vector.data.length !== vector.rows * vector.cols) {
    throw new RangeError(
      `vector data has ${vector.data.length} values, expected rows·cols = ${
        vector.rows * vector.cols
      }`,
    );
  }
  const header = {
    __metadata__: vectorMetadata(meta, vector),
    vector: {
      dtype: "F32",
      shape: [vector.rows, vector.cols],
      data_offsets: [0, vector.data.length * 4],
    },
  };
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8); // keep the data 8-byte aligned
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + vector.data.length * 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  const body = new DataView(out.buffer, 8 + head.length);
  for (let i = 0; i < vector.data.length; i++) body.setFloat32(i * 4, vector.data[i], true);
  return out;
}

/**
 * Decodes a safetensors file holding exactly one F32 tensor of rank 2 (any name).
 *
 * @example
 * ```ts
 * import { decodeVectorFile, encodeVectorFile } from "./vector_file.ts";
 * const v = { rows: 1, cols: 2, data: new Float32Array([1, 2]) };
 * const back = decodeVectorFile(encodeVectorFile(v, { model: "m", trait: "t", type: "x", n_pos: 1,
 *   n_neg: 1, threshold: 50 }));
 * console.log(back.vector.data); // Float32Array [1, 2]
 * ```
 */
export function decodeVectorFile(
  bytes: Uint8Array,
): { vector: LayerVectors; metadata: Record<string, string> } {
  const bad = (why: string) =>
    withCode(
      new SyntaxError(
        `not a persona vector file: ${why}; expected safetensors with one F32 [L+1, d] tensor`,
      ),
      "E_WEIGHTS",
    );
  if (bytes.length < 8) throw bad(`only ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (8 + n > bytes.length) throw bad(`header length ${n} exceeds the file size ${bytes.length}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch {
    throw bad("header is not JSON");
  }
  const names = Object.keys(header).filter((k) => k !== "__metadata__");
  if (names.length !== 1) throw bad(`it holds ${names.length} tensors (${names.join(", ")})`);
  const t = header[names[0]] as { dtype: string; shape: number[]; data_offsets: [number, number] };
  if (t.dtype !== "F32" || t.shape?.length !== 2) {
    throw bad(`tensor is ${t.dtype} with shape ${JSON.stringify(t.shape)}`);
  }
  const [rows, cols] = t.shape;
  const [a, b] = t.data_offsets;
  if (b - a !== rows * cols * 4 || 8 + n + b > bytes.length) {
    throw bad("data offsets do not match the shape");
  }
  const data = new Float32Array(rows * cols);
  const body = new DataView(bytes.buffer, bytes.byteOffset + 8 + n + a, b - a);
  for (let i = 0; i < data.length; i++) data[i] = body.getFloat32(i * 4, true);
  return {
    vector: { rows, cols, data },
    metadata: (header.__metadata__ ?? {}) as Record<string, string>,
  };
}
