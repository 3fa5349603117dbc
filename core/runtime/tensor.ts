/**
 * The wire format of tensors between the main thread and a session worker: a plain object
 * `{ dtype, dims, data }` whose typed array's buffer is transferred, not copied.
 *
 * float16 travels as a `Uint16Array` of raw half-precision bits: onnxruntime-node 1.30 reads a
 * `Float16Array` as 0 bytes long in Deno (see notes/runtime-findings.md §0.4), so the worker hands the
 * binding a `Uint16Array` instead.
 *
 * @module
 */

import { withCode } from "../errors.ts";

/** Element types a session accepts and returns. */
export type TensorDType =
  | "float32"
  | "float64"
  | "float16"
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "bool";

/** The typed array for each element type. */
export interface TensorDataMap {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
  bool: Uint8Array;
}

/** Any typed array a tensor may hold. */
export type TensorData = TensorDataMap[TensorDType];

/** A tensor as it crosses the worker boundary (row-major). */
export interface WireTensor<D extends TensorDType = TensorDType> {
  dtype: D;
  dims: number[];
  data: TensorDataMap[D];
}

const CTORS: Record<TensorDType, { new (n: number): TensorData; name: string }> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

/**
 * Makes a wire tensor, checking that the data type and length match the dims.
 *
 * @example
 * ```ts
 * import { tensor } from "./tensor.ts";
 * const ids = tensor("int64", [1, 3], new BigInt64Array([1n, 2n, 3n]));
 * const x = tensor("float32", [2, 2]); // zeros
 * ```
 */
export function tensor<D extends TensorDType>(
  dtype: D,
  dims: number[],
  data?: TensorDataMap[D],
): WireTensor<D> {
  const ctor = CTORS[dtype];
  if (!ctor) {
    throw withCode(
      new TypeError(
        `dtype is ${JSON.stringify(dtype)}; use one of ${Object.keys(CTORS).join(", ")}`,
      ),
      "E_USAGE",
    );
  }
  let size = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) {
      throw withCode(
        new RangeError(`dims is [${dims}]; every dimension must be a whole number >= 0`),
        "E_USAGE",
      );
    }
    size *= d;
  }
  const values = (data ?? new ctor(size)) as TensorDataMap[D];
  if (!(values instanceof ctor)) {
    throw withCode(
      new TypeError(
        `data for a ${dtype} tensor is a ${values?.constructor?.name}; pass a ${ctor.name}`,
      ),
      "E_USAGE",
    );
  }
  if (values.length !== size) {
    throw withCode(
      new RangeError(
        `data has ${values.length} elements but dims [${dims}] need ${size}; fix the dims or data`,
      ),
      "E_USAGE",
    );
  }
  return { dtype, dims: [...dims], data: values };
}

/** The number of elements of a dims list. */
export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Is this a wire tensor (structural check, used on values from other threads)? */
export function isWireTensor(value: unknown): value is WireTensor {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.dtype === "string" && Array.isArray(v.dims) && ArrayBuffer.isView(v.data);
}

/**
 * The distinct transferable buffers behind a set of tensors. Shared buffers are skipped (they
 * are shared, not moved), and a buffer used by two tensors is listed once.
 */
export function transferList(tensors: Iterable<WireTensor>): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const t of tensors) {
    const buf = t.data.buffer;
    if (buf instanceof ArrayBuffer && buf.byteLength > 0) seen.add(buf);
  }
  return [...seen];
}
