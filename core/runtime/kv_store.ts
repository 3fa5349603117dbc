/**
 * {@link KvStore}: a decoder's KV cache kept in preallocated buffers next to the session (on the
 * session's worker), for graphs built with `kvCache: "resident"`. Each call feeds the buffers
 * themselves as `past_key_values.{i}.key/value` `[batch, n_kv, capacity, head_dim]` (onnxruntime
 * wraps input buffers without copying them), the graph returns only the new rows
 * `kv_new.{i}.*`, and {@link KvStore.append} writes those rows into place. Nothing proportional
 * to the context length is copied per step: capacity grows in blocks (one copy per block), rows
 * leave the batch with one compaction, and prefixes are saved and restored by copy.
 *
 * Row b's cached positions are `0 .. length(b) - 1`; the caller masks the rest of the capacity
 * with `attention_mask`.
 *
 * @module
 */

import { withCode } from "../errors.ts";
import { tensor, type WireTensor } from "./tensor.ts";

/** Sizes of the cache. */
export interface KvShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
}

/** One row's new tokens to keep: columns `from .. from+count-1` of the call go to `at ..`. */
export interface KvAppend {
  row: number;
  from: number;
  count: number;
  at: number;
}

/** The KV part of a run: which cache to feed, at what size, and where the new rows go. */
export interface KvCall {
  id: number;
  shape: KvShape;
  batch: number;
  capacity: number;
  appends: KvAppend[];
}

/** Cache maintenance between runs (prefixes are saved under keys the caller picks). */
export type KvAction =
  | {
    action: "prepare";
    id: number;
    shape: KvShape;
    batch: number;
    capacity: number;
    /** Positions per row to allocate for now (the cache then grows in place up to them). */
    reserve?: number;
  }
  | { action: "select"; id: number; rows: number[] }
  | { action: "release"; id: number }
  | { action: "save"; id: number; row: number; length: number; key: string }
  | { action: "restore"; id: number; row: number; length: number; key: string }
  | { action: "drop"; key: string };

/** A saved prefix: per layer keys and values `[n_kv, length, head_dim]`. */
export interface KvSnapshot {
  length: number;
  keys: Float32Array[];
  values: Float32Array[];
  bytes: number;
}

/**
 * The cache buffers of one generation.
 *
 * @example
 * ```ts
 * import { KvStore } from "./kv_store.ts";
 * const kv = new KvStore({ numLayers: 1, numKvHeads: 1, headDim: 2 });
 * kv.ensure(1, 4);
 * console.log(kv.feeds()["past_key_values.0.key"].dims); // [1, 1, 4, 2]
 * ```
 */
export class KvStore {
  readonly shape: KvShape;
  #batch = 0;
  #capacity = 0;
  /** Positions per row the next allocation provides for (at least the asked capacity). */
  #reserve = 0;
  /** Backing buffers per layer; the fed tensors are their first batch × capacity rows. */
  #keyStore: Float32Array[] = [];
  #valueStore: Float32Array[] = [];
  #keys: Float32Array[] = [];
  #values: Float32Array[] = [];

  constructor(shape: KvShape) {
    this.shape = shape;
  }

  /** Rows of the batch. */
  get batch(): number {
    return this.#batch;
  }

  /** Positions each row can hold (the fed sequence dimension). */
  get capacity(): number {
    return this.#capacity;
  }

  /** Bytes held by the buffers (the backing stores, which may exceed the fed capacity). */
  get bytes(): number {
    const per = this.#keyStore[0]?.length ?? 0;
    return 2 * this.shape.numLayers * per * 4;
  }

  #rowFloats(capacity: number): number {
    return this.shape.numKvHeads * capacity * this.shape.headDim;
  }

  /**
   * Makes the next allocation hold `capacity` positions per row, so a cache that will grow to
   * a known size (a long prompt prefilled chunk by chunk) is allocated once and then grows
   * inside its buffers, leaving nothing for the garbage collector.
   */
  reserve(capacity: number): void {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw withCode(
        new RangeError(`KV cache reserve ${capacity}; pass a whole number >= 0`),
        "E_USAGE",
      );
    }
    this.#reserve = capacity;
  }

  /**
   * Sizes the buffers to `batch` rows of `capacity` positions, keeping what rows already hold
   * (a new batch size starts empty). Within the backing buffers the rows are moved in place;
   * growing beyond them allocates once (to the reserve, when larger) and copies the cache.
   */
  ensure(batch: number, capacity: number): void {
    if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(capacity) || capacity < 0) {
      throw withCode(
        new RangeError(`KV cache size ${batch}×${capacity}; pass whole numbers (batch >= 1)`),
        "E_USAGE",
      );
    }
    if (batch === this.#batch && capacity === this.#capacity) return;
    const { numLayers, numKvHeads: H, headDim: D } = this.shape;
    const old = this.#capacity;
    const keep = batch === this.#batch ? Math.min(capacity, old) : 0;
    const need = batch * this.#rowFloats(capacity);
    const blocks = batch * H;
    if (this.#keyStore.length === numLayers && this.#keyStore[0].length >= need) {
      // Re-lay the rows inside the same buffers: growing moves blocks outward (last first),
      // shrinking inward (first first), so no block is overwritten before it moves.
      const move = (buf: Float32Array) => {
        if (keep === 0 || capacity === old) return;
        for (let j = 0; j < blocks; j++) {
          const k = capacity > old ? blocks - 1 - j : j;
          buf.copyWithin(k * capacity * D, k * old * D, k * old * D + keep * D);
        }
      };
      this.#keyStore.forEach(move);
      this.#valueStore.forEach(move);
    } else {
      const size = batch * this.#rowFloats(Math.max(capacity, this.#reserve));
      const grow = (prev: Float32Array | undefined) => {
        const next = new Float32Array(size);
        if (prev && keep > 0) {
          for (let k = 0; k < blocks; k++) {
            next.set(prev.subarray(k * old * D, k * old * D + keep * D), k * capacity * D);
          }
        }
        return next;
      };
      const keys: Float32Array[] = [];
      const values: Float32Array[] = [];
      for (let i = 0; i < numLayers; i++) {
        keys.push(grow(this.#keys[i]));
        values.push(grow(this.#values[i]));
      }
      this.#keyStore = keys;
      this.#valueStore = values;
    }
    this.#keys = this.#keyStore.map((b) => b.subarray(0, need));
    this.#values = this.#valueStore.map((b) => b.subarray(0, need));
    this.#batch = batch;
    this.#capacity = capacity;
  }

  /** The buffers as `past_key_values.*` feeds (views, not copies). */
  feeds(): Record<string, WireTensor> {
    const out: Record<string, WireTensor> = {};
    const dims = [this.#batch, this.shape.numKvHeads, this.#capacity, this.shape.headDim];
    for (let i = 0; i < this.shape.numLayers; i++) {
      out[`past_key_values.${i}.key`] = tensor("float32", dims, this.#keys[i]);
      out[`past_key_values.${i}.value`] = tensor("float32", dims, this.#values[i]);
    }
    return out;
  }

  /** Writes the new rows of a call (`kv_new.{i}.*`, `[batch, n_kv, S, head_dim]`) into place. */
  append(outputs: Record<string, WireTensor>, appends: readonly KvAppend[]): void {
    const { numLayers, numKvHeads: H, headDim: D } = this.shape;
    const C = this.#capacity;
    for (const a of appends) {
      if (a.row < 0 || a.row >= this.#batch || a.at < 0 || a.at + a.count > C) {
        throw withCode(
          new RangeError(
            `KV append of ${a.count} positions at ${a.at} for row ${a.row} does not fit a ` +
              `${this.#batch}×${C} cache; grow it first`,
          ),
          "E_USAGE",
        );
      }
    }
    for (let i = 0; i < numLayers; i++) {
      for (const [name, buf] of [["key", this.#keys[i]], ["value", this.#values[i]]] as const) {
        const t = outputs[`kv_new.${i}.${name}`];
        if (!t) {
          throw withCode(
            new TypeError(`output kv_new.${i}.${name} is missing; fetch every kv_new output`),
            "E_USAGE",
          );
        }
        const S = t.dims[2];
        const src = t.data as Float32Array;
        for (const a of appends) {
          for (let h = 0; h < H; h++) {
            const s0 = ((a.row * H + h) * S + a.from) * D;
            const d0 = ((a.row * H + h) * C + a.at) * D;
            buf.set(src.subarray(s0, s0 + a.count * D), d0);
          }
        }
      }
    }
  }

  /** Keeps rows `rows` (in order), moving them to the front; the batch becomes `rows.length`. */
  select(rows: readonly number[]): void {
    if (rows.length === this.#batch && rows.every((r, i) => r === i)) return;
    const per = this.#rowFloats(this.#capacity);
    if (rows.every((r, j) => r >= j && (j === 0 || r > rows[j - 1]))) {
      // Ascending rows move toward the front without overwriting one still to move.
      const compact = (buf: Float32Array) =>
        rows.forEach((r, j) => {
          if (r !== j) buf.copyWithin(j * per, r * per, (r + 1) * per);
        });
      this.#keyStore.forEach(compact);
      this.#valueStore.forEach(compact);
      this.#keys = this.#keyStore.map((b) => b.subarray(0, rows.length * per));
      this.#values = this.#valueStore.map((b) => b.subarray(0, rows.length * per));
    } else {
      const pick = (buf: Float32Array) => {
        const out = new Float32Array(rows.length * per);
        rows.forEach((r, j) => out.set(buf.subarray(r * per, (r + 1) * per), j * per));
        return out;
      };
      this.#keyStore = this.#keys = this.#keys.map(pick);
      this.#valueStore = this.#values = this.#values.map(pick);
    }
    this.#batch = rows.length;
  }

  /** Copies the first `length` positions of row `row`. */
  snapshot(row: number, length: number): KvSnapshot {
    const { numKvHeads: H, headDim: D } = this.shape;
    const C = this.#capacity;
    if (length > C || row >= this.#batch) {
      throw withCode(
        new RangeError(`cannot snapshot ${length} positions of row ${row}`),
        "E_USAGE",
      );
    }
    const take = (buf: Float32Array) => {
      const out = new Float32Array(H * length * D);
      for (let h = 0; h < H; h++) {
        const s0 = (row * H + h) * C * D;
        out.set(buf.subarray(s0, s0 + length * D), h * length * D);
      }
      return out;
    };
    const keys = this.#keys.map(take);
    const values = this.#values.map(take);
    return { length, keys, values, bytes: 2 * keys.length * H * length * D * 4 };
  }

  /** Writes the first `length` positions of a snapshot into row `row` (positions 0..length-1). */
  restore(row: number, snap: KvSnapshot, length = snap.length): void {
    const { numKvHeads: H, headDim: D } = this.shape;
    const C = this.#capacity;
    if (length > snap.length || length > C || row >= this.#batch) {
      throw withCode(
        new RangeError(`cannot restore ${length} positions into row ${row}`),
        "E_USAGE",
      );
    }
    const put = (dst: Float32Array, src: Float32Array) => {
      for (let h = 0; h < H; h++) {
        const s0 = h * snap.length * D;
        dst.set(src.subarray(s0, s0 + length * D), (row * H + h) * C * D);
      }
    };
    this.#keys.forEach((k, i) => put(k, snap.keys[i]));
    this.#values.forEach((v, i) => put(v, snap.values[i]));
  }
}
