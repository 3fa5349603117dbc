/**
 * {@link KvStore}: a decoder's KV cache kept in preallocated buffers next to the session (on the
 * session's worker), for graphs built with `kvCache: "resident"`. Each call feeds the buffers
 * themselves as `past_key_values.{i}.key` `[batch, n_kv, capacity, head_dim]` and
 * `past_key_values.{i}.value` `[batch, n_kv, head_dim, capacity]` (values transposed, so the
 * graph reads both as the tall operand of its attention products; onnxruntime wraps input
 * buffers without copying them), the graph returns only the new columns `kv_new.{i}.*` in the
 * same layouts, and {@link KvStore.append} writes them into place. Nothing proportional to the
 * context length is copied per step: capacity grows inside reserved buffers (or, past them, with
 * one copy), rows leave the batch with one compaction, and prefixes are saved and restored by
 * copy.
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
  /** Positions per row fed to the graph (the filled ones and masked empty slots). */
  capacity: number;
  /**
   * Positions per row to grow to after the run, before the appends (default `capacity`): the
   * call then attends only over what is filled, and the new positions get room afterwards.
   */
  appendCapacity?: number;
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

/** A saved prefix: per layer keys `[n_kv, length, head_dim]` and values `[n_kv, head_dim, length]`. */
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
   * Floats per position of one segment: a key segment is one (row, head) with `head_dim` floats
   * per position; a value segment is one (row, head, dim) with one float per position.
   */
  #unit(kind: "key" | "value"): number {
    return kind === "key" ? this.shape.headDim : 1;
  }

  /** Segments of one batch row. */
  #segments(kind: "key" | "value"): number {
    return this.shape.numKvHeads * (kind === "key" ? 1 : this.shape.headDim);
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
    const { numLayers } = this.shape;
    const old = this.#capacity;
    const keep = batch === this.#batch ? Math.min(capacity, old) : 0;
    const need = batch * this.#rowFloats(capacity);
    if (this.#keyStore.length === numLayers && this.#keyStore[0].length >= need) {
      // Re-lay the segments inside the same buffers: growing moves them outward (last first),
      // shrinking inward (first first), so none is overwritten before it moves.
      const move = (kind: "key" | "value") => (buf: Float32Array) => {
        if (keep === 0 || capacity === old) return;
        const u = this.#unit(kind);
        const n = batch * this.#segments(kind);
        for (let j = 0; j < n; j++) {
          const k = capacity > old ? n - 1 - j : j;
          buf.copyWithin(k * capacity * u, k * old * u, (k * old + keep) * u);
        }
      };
      this.#keyStore.forEach(move("key"));
      this.#valueStore.forEach(move("value"));
    } else {
      const size = batch * this.#rowFloats(Math.max(capacity, this.#reserve));
      const grow = (kind: "key" | "value", prev: Float32Array | undefined) => {
        const next = new Float32Array(size);
        if (prev && keep > 0) {
          const u = this.#unit(kind);
          const n = batch * this.#segments(kind);
          for (let k = 0; k < n; k++) {
            next.set(prev.subarray(k * old * u, (k * old + keep) * u), k * capacity * u);
          }
        }
        return next;
      };
      const keys: Float32Array[] = [];
      const values: Float32Array[] = [];
      for (let i = 0; i < numLayers; i++) {
        keys.push(grow("key", this.#keys[i]));
        values.push(grow("value", this.#values[i]));
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
    const { numKvHeads: H, headDim: D } = this.shape;
    const B = this.#batch;
    const C = this.#capacity;
    for (let i = 0; i < this.shape.numLayers; i++) {
      out[`past_key_values.${i}.key`] = tensor("float32", [B, H, C, D], this.#keys[i]);
      out[`past_key_values.${i}.value`] = tensor("float32", [B, H, D, C], this.#values[i]);
    }
    return out;
  }

  /**
   * Writes the new positions of a call into place: `kv_new.{i}.key` `[batch, n_kv, S, head_dim]`
   * and `kv_new.{i}.value` `[batch, n_kv, head_dim, S]`.
   */
  append(outputs: Record<string, WireTensor>, appends: readonly KvAppend[]): void {
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
    for (let i = 0; i < this.shape.numLayers; i++) {
      for (const [kind, buf] of [["key", this.#keys[i]], ["value", this.#values[i]]] as const) {
        const t = outputs[`kv_new.${i}.${kind}`];
        if (!t) {
          throw withCode(
            new TypeError(`output kv_new.${i}.${kind} is missing; fetch every kv_new output`),
            "E_USAGE",
          );
        }
        const S = kind === "key" ? t.dims[2] : t.dims[3];
        const src = t.data as Float32Array;
        const u = this.#unit(kind);
        const n = this.#segments(kind);
        for (const a of appends) {
          const len = a.count * u;
          for (let j = 0; j < n; j++) {
            const seg = a.row * n + j;
            const s0 = (seg * S + a.from) * u;
            const d0 = (seg * C + a.at) * u;
            // A decode step's value segments are one float each (n_kv · head_dim per layer):
            // a plain loop there, as a subarray view per segment costs more than the copy.
            if (len <= 16) { for (let k = 0; k < len; k++) buf[d0 + k] = src[s0 + k]; }
            else buf.set(src.subarray(s0, s0 + len), d0);
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
    const C = this.#capacity;
    if (length > C || row >= this.#batch) {
      throw withCode(
        new RangeError(`cannot snapshot ${length} positions of row ${row}`),
        "E_USAGE",
      );
    }
    const take = (kind: "key" | "value") => (buf: Float32Array) => {
      const u = this.#unit(kind);
      const n = this.#segments(kind);
      const out = new Float32Array(n * length * u);
      for (let j = 0; j < n; j++) {
        const s0 = (row * n + j) * C * u;
        out.set(buf.subarray(s0, s0 + length * u), j * length * u);
      }
      return out;
    };
    const keys = this.#keys.map(take("key"));
    const values = this.#values.map(take("value"));
    const { numKvHeads: H, headDim: D } = this.shape;
    return { length, keys, values, bytes: 2 * keys.length * H * length * D * 4 };
  }

  /** Writes the first `length` positions of a snapshot into row `row` (positions 0..length-1). */
  restore(row: number, snap: KvSnapshot, length = snap.length): void {
    const C = this.#capacity;
    if (length > snap.length || length > C || row >= this.#batch) {
      throw withCode(
        new RangeError(`cannot restore ${length} positions into row ${row}`),
        "E_USAGE",
      );
    }
    const put = (kind: "key" | "value") => (dst: Float32Array, i: number) => {
      const src = (kind === "key" ? snap.keys : snap.values)[i];
      const u = this.#unit(kind);
      const n = this.#segments(kind);
      for (let j = 0; j < n; j++) {
        const s0 = j * snap.length * u;
        dst.set(src.subarray(s0, s0 + length * u), (row * n + j) * C * u);
      }
    };
    this.#keys.forEach(put("key"));
    this.#values.forEach(put("value"));
  }
}
