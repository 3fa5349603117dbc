/**
 * The decode loop over an exported decoder graph (transformers.js I/O names, see
 * core/runtime/decoder_io.ts): batches of prompts with left padding, a KV cache that round-trips
 * through the session, per-row sampling with its own seeded stream, EOS and stop strings, streamed
 * token/text deltas, per-token log-probabilities, `n` completions, cancellation and timing.
 *
 * Rows are `prompt × n` (row r = prompt ⌊r/n⌋, completion r mod n). Row r samples from
 * `new Prng(rowSeed(seed, r))`, so a row's tokens depend only on the seed and its own logits,
 * never on the other rows of the batch. Finished rows leave the batch (their cache is dropped).
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { ResidualEdit } from "../contracts/steerer.ts";
import type { FinishReason } from "../contracts/chat_model.ts";
import { withCode } from "../errors.ts";
import { Prng } from "../util/prng.ts";
import {
  type CallPhase,
  checkEdits,
  type DecoderShape,
  emptyPast,
  hasSteeringInputs,
  pastName,
  positionIds,
  presentName,
  steeringFeeds,
} from "../runtime/decoder_io.ts";
import { tensor, type WireTensor } from "../runtime/tensor.ts";
import type { KvAction, KvCall } from "../runtime/kv_store.ts";
import type { PrefixCache } from "./prefix_cache.ts";
import {
  type SamplingOptions,
  type SelectedToken,
  selectToken,
  validateSampling,
} from "./sampling.ts";
import { StopDetector } from "./stops.ts";
import { SpelledText } from "./spelled_text.ts";

/** What the loop needs from a session (an `OrtSession` fits). */
export interface DecoderSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(
    feeds: Record<string, WireTensor>,
    outputNames?: readonly string[],
    options?: { kv?: KvCall },
  ): Promise<Record<string, WireTensor>>;
  /** Resident-cache maintenance (needed by graphs built with `kvCache: "resident"`). */
  kv?(action: KvAction): Promise<unknown>;
}

/** A decoder ready to generate: its session, sizes and token facts. */
export interface DecoderModel {
  session: DecoderSession;
  shape: DecoderShape;
  /** Token ids that end a completion (all EOS ids of the config). */
  eosTokenIds: readonly number[];
  /** Id used for left padding (the attention mask hides it). */
  padTokenId: number;
  /** Token ids → text (special tokens skipped). */
  decode(ids: readonly number[]): string;
  /**
   * The model's position limit (`max_position_embeddings`): prompt plus completion never grow
   * past it. Absent = no limit known.
   */
  maxPositions?: number;
}

/** Options of one generation. Sampling fields as in {@link SamplingOptions} (temperature 0 = greedy). */
export interface GenerateOptions extends SamplingOptions {
  /** Most tokens generated per completion; default 128. */
  maxNewTokens?: number;
  /** Completions per prompt; default 1. */
  n?: number;
  /** Seed of every random choice; default a random seed (see the result's `seed`). */
  seed?: number;
  /** Stop strings; the text ends right before the first one, which is not included. */
  stop?: string | readonly string[];
  /** Overrides the model's EOS ids. */
  eosTokenIds?: readonly number[];
  /** Report the chosen token's log-probability. */
  logprobs?: boolean;
  /** Report this many alternatives per token (0..20). Implies `logprobs`. */
  topLogprobs?: number;
  /**
   * Sees each row's next-token logits (the whole vocabulary, before any sampling setting
   * changes them), once per generated token: `prompt` and `index` name the completion. The
   * array is the session's output buffer; copy what you keep.
   */
  observeLogits?: (prompt: number, index: number, logits: Float32Array) => void;
  /** Residual-stream edits (needs a graph built with steering). */
  edits?: readonly ResidualEdit[];
  /**
   * Extra graph inputs fed on every call (adapter runtime inputs), given the prompt index of each
   * row of the current batch (the batch shrinks as rows finish).
   */
  runtimeInputs?: (promptOfRow: readonly number[]) => Record<string, WireTensor>;
  /** Cancels the generation; the stream then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Prompt tokens per prefill call of a resident-cache graph (default 256): scratch memory is
   * bounded by the chunk, not the prompt. Deep in a long prompt the chunk is cut further so a
   * call's attention scores stay within 12 MiB (never below 32 tokens).
   */
  prefillChunk?: number;
  /** Resident cache capacity grows in blocks of this many positions (default 256). */
  cacheBlock?: number;
  /** Saved prompt prefixes to reuse and extend (resident-cache graphs on an OrtSession). */
  prefixCache?: PrefixCache;
  /**
   * What else conditions a prompt's keys and values besides its tokens and edits (for example
   * its identities), by prompt index; prefixes are reused only under the same condition.
   */
  prefixCondition?: (prompt: number) => string;
}

/** One streamed step of one completion. */
export interface GenerationDelta {
  type: "delta";
  prompt: number;
  /** Completion index within its prompt (0..n-1). */
  index: number;
  token: number;
  /** Text that became final with this token (may be empty while a stop prefix is held back). */
  text: string;
  logprob?: SelectedToken;
}

/** A completion that ended. */
export interface GenerationFinish {
  type: "finish";
  prompt: number;
  index: number;
  finishReason: FinishReason;
  /** Text released at the end (a held-back tail that turned out not to be a stop). */
  text: string;
  /** Why a `length` finish came before `maxNewTokens` (the model's position limit). */
  notice?: string;
}

/** Events of {@link generateStream}. */
export type GenerationEvent = GenerationDelta | GenerationFinish;

/** One finished completion. */
export interface Completion {
  prompt: number;
  index: number;
  /** Generated token ids, EOS excluded. */
  tokens: number[];
  text: string;
  finishReason: FinishReason;
  /** Per generated token (EOS included), when logprobs were asked. */
  logprobs?: SelectedToken[];
  /** Why a `length` finish came before `maxNewTokens` (the model's position limit). */
  notice?: string;
}

/** Timing and counts of a generation. */
export interface GenerationStats {
  promptTokens: number;
  completionTokens: number;
  prefillMs: number;
  decodeMs: number;
  /** Real prompt tokens per second of the prefill call. */
  prefillTokensPerSecond: number;
  /** Tokens per second of the decode calls (all rows together). */
  decodeTokensPerSecond: number;
  /** Calls to the session. */
  calls: number;
  /** Prompt tokens whose keys and values came from the prefix cache instead of a prefill. */
  reusedPromptTokens: number;
}

/** Everything a generation produced. */
export interface GenerationResult {
  completions: Completion[];
  stats: GenerationStats;
  seed: number;
}

/**
 * The seed of row `row`'s random stream (a splitmix-style mix of seed and row).
 *
 * @example
 * ```ts
 * import { rowSeed } from "./generate.ts";
 * console.log(rowSeed(42, 0) !== rowSeed(42, 1)); // true
 * ```
 */
export function rowSeed(seed: number, row: number): number {
  let z = (Math.floor(seed) ^ Math.imul(row + 1, 0x9e3779b9)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

interface Row {
  prompt: number;
  index: number;
  sequence: number[];
  generated: number[];
  prng: Prng;
  stops: StopDetector;
  /** The text of `generated`, decoded in a window (not from the start at every token). */
  spelled: SpelledText;
  emitted: string;
  text: string;
  logprobs: SelectedToken[];
  mask: number[];
  finish?: FinishReason;
  notice?: string;
}

function usage(err: Error): Error {
  return withCode(err, "E_USAGE");
}

function checkOptions(
  model: DecoderModel,
  prompts: readonly (readonly number[])[],
  o: GenerateOptions & { forward?: boolean },
) {
  if (!Array.isArray(prompts) || prompts.length === 0) {
    throw usage(new TypeError("prompts is empty; pass at least one array of token ids"));
  }
  prompts.forEach((p, i) => {
    if (!Array.isArray(p) || p.length === 0) {
      throw usage(
        new RangeError(`prompts[${i}] has no tokens; every prompt needs at least one token id`),
      );
    }
    if (!p.every((t) => Number.isInteger(t) && t >= 0)) {
      throw usage(
        new TypeError(`prompts[${i}] holds a value that is not a token id (whole number >= 0)`),
      );
    }
    if (model.maxPositions !== undefined && p.length > model.maxPositions - (o.forward ? 0 : 1)) {
      throw withCode(
        new RangeError(
          `prompts[${i}] is ${p.length} tokens but the model's max_position_embeddings is ` +
            `${model.maxPositions}${
              o.forward ? "" : ", and generation needs room for at least one new token"
            }; shorten the prompt`,
        ),
        "E_LIMIT",
      );
    }
  });
  const maxNew = o.maxNewTokens ?? 128;
  if (!Number.isInteger(maxNew) || maxNew < 1) {
    throw usage(new RangeError(`maxNewTokens is ${maxNew}; pass a whole number >= 1`));
  }
  const n = o.n ?? 1;
  if (!Number.isInteger(n) || n < 1) {
    throw usage(new RangeError(`n is ${n}; pass a whole number >= 1`));
  }
  const top = o.topLogprobs ?? 0;
  if (!Number.isInteger(top) || top < 0 || top > 20) {
    throw usage(new RangeError(`topLogprobs is ${top}; pass a whole number in 0..20`));
  }
  if (o.seed !== undefined && !Number.isFinite(o.seed)) {
    throw usage(new RangeError(`seed is ${o.seed}; pass a finite number`));
  }
  const edits = o.edits ?? [];
  if (edits.length > 0 && !hasSteeringInputs(model.session.inputNames)) {
    throw usage(
      new TypeError(
        "edits were given but the graph has no steering inputs; load the model with steering: true",
      ),
    );
  }
  checkEdits(edits, model.shape);
  return { maxNew, n, top, edits };
}

/**
 * Generates completions and streams their deltas. The generator's return value is the full result.
 *
 * @example
 * ```ts
 * import { generateStream, type DecoderModel } from "./generate.ts";
 * declare const model: DecoderModel;
 * const it = generateStream(model, [[1, 2, 3]], { maxNewTokens: 8, temperature: 0.7, seed: 1 });
 * for await (const ev of it) if (ev.type === "delta") console.log(ev.text);
 * ```
 */
export async function* generateStream(
  model: DecoderModel,
  prompts: readonly (readonly number[])[],
  options: GenerateOptions = {},
): AsyncGenerator<GenerationEvent, GenerationResult> {
  const sampling = validateSampling(options);
  const { maxNew, n, top, edits } = checkOptions(model, prompts, options);
  const eos = new Set(options.eosTokenIds ?? model.eosTokenIds);
  const seed = options.seed ?? (crypto.getRandomValues(new Uint32Array(1))[0]);
  const wantLp = (options.logprobs ?? false) || top > 0;
  const signal = options.signal;
  const { session, shape } = model;
  const steering = hasSteeringInputs(session.inputNames);
  const keepInput = session.inputNames.includes("num_logits_to_keep");
  const resident = session.outputNames.includes("kv_new.0.key");
  const outputs = ["logits"];
  if (!resident) {
    for (let i = 0; i < shape.numLayers; i++) {
      outputs.push(presentName(i, "key"), presentName(i, "value"));
    }
  }

  const all: Row[] = [];
  for (let p = 0; p < prompts.length; p++) {
    for (let k = 0; k < n; k++) {
      all.push({
        prompt: p,
        index: k,
        sequence: [...prompts[p]],
        generated: [],
        prng: new Prng(rowSeed(seed, all.length)),
        stops: new StopDetector(options.stop as string[] | undefined),
        spelled: new SpelledText((ids) => model.decode(ids)),
        emitted: "",
        text: "",
        logprobs: [],
        mask: [],
      });
    }
  }
  const stats: GenerationStats = {
    promptTokens: prompts.reduce((s, p) => s + p.length, 0),
    completionTokens: 0,
    prefillMs: 0,
    decodeMs: 0,
    prefillTokensPerSecond: 0,
    decodeTokensPerSecond: 0,
    calls: 0,
    reusedPromptTokens: 0,
  };

  let active = all.slice();
  let decodeTokens = 0;

  /** Samples one token per active row from `[B, L, V]` logits (last position) and emits events. */
  const sampleStep = (logits: WireTensor): GenerationEvent[] => {
    const V = logits.dims[logits.dims.length - 1];
    const L = logits.dims.length === 3 ? logits.dims[1] : 1;
    const data = logits.data as Float32Array;
    const events: GenerationEvent[] = [];
    active.forEach((r, b) => {
      const row = data.subarray((b * L + L - 1) * V, (b * L + L) * V);
      options.observeLogits?.(r.prompt, r.index, row);
      const pick = selectToken(row, sampling, {
        sequence: r.sequence,
        generated: r.generated,
        row: all.indexOf(r),
        prng: r.prng,
        topLogprobs: top,
        logprobs: wantLp,
      });
      stats.completionTokens++;
      if (wantLp) r.logprobs.push(pick);
      if (eos.has(pick.token)) {
        r.finish = "stop";
        events.push({
          type: "delta",
          prompt: r.prompt,
          index: r.index,
          token: pick.token,
          text: "",
          ...(wantLp ? { logprob: pick } : {}),
        });
        return;
      }
      r.sequence.push(pick.token);
      r.generated.push(pick.token);
      let delta = "";
      const full = r.spelled.push(pick.token);
      // Hold back text ending in an incomplete UTF-8 sequence until the next token completes it.
      // The completion's text is the concatenation of these deltas, streamed or not.
      if (!full.endsWith("\uFFFD") && full.length > r.emitted.length) {
        delta = full.slice(r.emitted.length);
        r.emitted = full;
      }
      const step = r.stops.push(delta);
      r.text += step.text;
      events.push({
        type: "delta",
        prompt: r.prompt,
        index: r.index,
        token: pick.token,
        text: step.text,
        ...(wantLp ? { logprob: pick } : {}),
      });
      if (step.stopped) r.finish = "stop";
      else if (r.generated.length >= maxNew) r.finish = "length";
      else if (model.maxPositions !== undefined && r.sequence.length >= model.maxPositions) {
        r.finish = "length";
        r.notice = `stopped at the model's position limit: prompt and completion reached ` +
          `max_position_embeddings = ${model.maxPositions} tokens`;
      }
    });
    for (const r of active) {
      if (!r.finish) continue;
      let tail = "";
      if (!r.stops.stopped) {
        // Text held back for an incomplete UTF-8 sequence is released as decode spells it (with
        // U+FFFD), so the completion's text is the decode of its tokens.
        const full = model.decode(r.generated);
        if (full.length > r.emitted.length && full.startsWith(r.emitted)) {
          const step = r.stops.push(full.slice(r.emitted.length));
          r.emitted = full;
          tail += step.text;
          if (step.stopped) r.finish = "stop";
        }
        if (!r.stops.stopped) tail += r.stops.flush();
      }
      r.text += tail;
      events.push({
        type: "finish",
        prompt: r.prompt,
        index: r.index,
        finishReason: r.finish,
        text: tail,
        ...(r.notice ? { notice: r.notice } : {}),
      });
    }
    return events;
  };

  const extraFeeds = (
    feeds: Record<string, WireTensor>,
    B: number,
    S: number,
    phase: CallPhase,
    valid: Uint8Array,
    final = true,
  ) => {
    if (keepInput) feeds.num_logits_to_keep = tensor("int64", [], new BigInt64Array([1n]));
    if (steering) {
      Object.assign(feeds, steeringFeeds(shape, edits, { batch: B, seq: S, phase, valid, final }));
    }
    if (options.runtimeInputs) {
      Object.assign(feeds, options.runtimeInputs(active.map((r) => r.prompt)));
    }
  };

  if (resident) {
    // The cache stays on the session's worker: each call feeds it in place and appends the new
    // rows; the prompt is prefilled in chunks, after any prefix restored from the prefix cache.
    if (!session.kv) {
      throw usage(new TypeError("a resident-cache graph needs a session with kv() (OrtSession)"));
    }
    const kvOf = session.kv.bind(session);
    const kvShape = {
      numLayers: shape.numLayers,
      numKvHeads: shape.numKvHeads,
      headDim: shape.headDim,
    };
    const id = nextKvId++;
    const block = options.cacheBlock ?? 256;
    const chunk = options.prefillChunk ?? 256;
    if (!Number.isInteger(chunk) || chunk < 1 || !Number.isInteger(block) || block < 1) {
      throw usage(
        new RangeError(
          `prefillChunk ${chunk} / cacheBlock ${block}; pass whole numbers >= 1`,
        ),
      );
    }
    const cached = new Map<Row, number>(active.map((r) => [r, 0]));
    // The cache grows in blocks, but never past the positions this generation can fill (the
    // longest prompt plus every new token but the last, which is sampled and never fed): a
    // short generation attends over what it will use, not over a block of empty slots.
    const limit = Math.max(...active.map((r) => r.sequence.length)) + maxNew - 1;
    const capacityFor = (need: number) => residentCapacity(need, block, limit);
    const prefix = options.prefixCache;
    const condition = (r: Row) => prefixCondition(edits, options.prefixCondition?.(r.prompt) ?? "");
    try {
      // Prefix reuse: restore what the cache holds before anything is awaited, so a concurrent
      // generation cannot evict it in between.
      // The buffers are allocated for the whole prompt (and the first token) at once; the fed
      // cache grows inside them chunk by chunk, so attention reads only the filled blocks and no
      // growth copies the cache into new buffers.
      const hits = prefix ? active.map((r) => prefix.match(r.sequence, condition(r))) : [];
      // Positions per row of the cache's layout, which each call feeds to the graph: what is
      // filled, in whole blocks (an empty cache feeds one masked slot). A call attends over it
      // and then grows it for its new positions, so no prefill chunk scores the slots its own
      // tokens fill. (The last chunk also grows it for the first decode step, which is fed its
      // own slot, or a block of them where the prompt ends on a block boundary.)
      const restored = Math.max(0, ...hits.map((h) => h?.length ?? 0));
      let layout = restored > 0 ? capacityFor(restored) : 1;
      const restores: Promise<unknown>[] = [kvOf({
        action: "prepare",
        id,
        shape: kvShape,
        batch: active.length,
        capacity: layout,
        reserve: capacityFor(Math.max(...active.map((r) => r.sequence.length)) + 1),
      })];
      if (prefix) {
        hits.forEach((h, b) => {
          if (!h) return;
          restores.push(kvOf({ action: "restore", id, row: b, length: h.length, key: h.key }));
          cached.set(active[b], h.length);
          stats.reusedPromptTokens += h.length;
        });
      }
      await Promise.all(restores);
      const t0 = performance.now();
      const rest = active.map((r) => r.sequence.slice(cached.get(r)!));
      const R = Math.max(...rest.map((x) => x.length));
      let logits: WireTensor | undefined;
      const B0 = active.length;
      const heads = shape.numHeads ?? Math.max(1, Math.round(shape.hiddenSize / shape.headDim));
      for (let c0 = 0, S = 0; c0 < R; c0 += S) {
        signal?.throwIfAborted();
        // Attention scores of a call are batch × heads × S × (layout + S) floats: deep in a
        // long prompt the chunk shrinks so they stay within SCORE_BUDGET_FLOATS.
        S = Math.min(chunk, R - c0, Math.max(MIN_CHUNK, chunkWithin(B0 * heads, layout)));
        const B = active.length;
        const ids = new BigInt64Array(B * S).fill(BigInt(model.padTokenId));
        const valid = new Uint8Array(B * S);
        const counts = active.map((_, b) => {
          const pad = R - rest[b].length;
          let n = 0;
          for (let j = 0; j < S; j++) {
            const k = c0 + j - pad;
            if (k < 0) continue;
            ids[b * S + j] = BigInt(rest[b][k]);
            valid[b * S + j] = 1;
            n++;
          }
          return n;
        });
        // The last chunk already sizes the cache for the first decode step, so that step does
        // not re-lay the whole cache inside its buffers.
        const C = layout;
        layout = capacityFor(
          Math.max(...active.map((r, b) => cached.get(r)! + counts[b])) + (c0 + S >= R ? 1 : 0),
        );
        const feeds = residentFeeds(active.map((r) => cached.get(r)!), C, ids, valid, B, S);
        extraFeeds(feeds, B, S, "prefill", valid, c0 + S >= R);
        const appends = active.map((r, b) => ({
          row: b,
          from: S - counts[b],
          count: counts[b],
          at: cached.get(r)!,
        })).filter((a) => a.count > 0);
        const out = await session.run(feeds, ["logits"], {
          kv: { id, shape: kvShape, batch: B, capacity: C, appendCapacity: layout, appends },
        });
        stats.calls++;
        active.forEach((r, b) => cached.set(r, cached.get(r)! + counts[b]));
        logits = out.logits;
      }
      // Save each prompt's prefix (all but its last position, which the next request re-runs).
      if (prefix) {
        const saved = new Set<number>();
        for (let b = 0; b < active.length; b++) {
          const r = active[b];
          if (saved.has(r.prompt)) continue;
          saved.add(r.prompt);
          const len = r.sequence.length - 1;
          const bytes = 2 * shape.numLayers * shape.numKvHeads * len * shape.headDim * 4;
          const toks = r.sequence.slice(0, len);
          if (!prefix.worthSaving(toks, condition(r), bytes)) continue;
          const { key, evicted } = prefix.add(toks, condition(r), bytes);
          await kvOf({ action: "save", id, row: b, length: len, key });
          for (const k of evicted) await kvOf({ action: "drop", key: k });
        }
      }
      const events = sampleStep(logits!);
      stats.prefillMs += performance.now() - t0;
      for (const e of events) yield e;
      for (;;) {
        const keep = active.map((r, b) => r.finish ? -1 : b).filter((b) => b >= 0);
        if (keep.length === 0) break;
        if (keep.length < active.length) await kvOf({ action: "select", id, rows: keep });
        active = keep.map((b) => active[b]);
        signal?.throwIfAborted();
        const B = active.length;
        const ids = BigInt64Array.from(active, (r) => BigInt(r.sequence[r.sequence.length - 1]));
        const valid = new Uint8Array(B).fill(1);
        const lens = active.map((r) => cached.get(r)!);
        const C = layout;
        layout = capacityFor(Math.max(...lens) + 1);
        const feeds = residentFeeds(lens, C, ids, valid, B, 1);
        extraFeeds(feeds, B, 1, "decode", valid);
        const t1 = performance.now();
        const out = await session.run(feeds, ["logits"], {
          kv: {
            id,
            shape: kvShape,
            batch: B,
            capacity: C,
            appendCapacity: layout,
            appends: lens.map((at, b) => ({ row: b, from: 0, count: 1, at })),
          },
        });
        stats.calls++;
        active.forEach((r) => cached.set(r, cached.get(r)! + 1));
        const evs = sampleStep(out.logits);
        stats.decodeMs += performance.now() - t1;
        decodeTokens += B;
        for (const e of evs) yield e;
      }
    } finally {
      await kvOf({ action: "release", id }).catch(() => {});
    }
  } else {
    let past: Record<string, WireTensor> = emptyPast(shape, active.length);
    let phase: CallPhase = "prefill";
    while (active.length > 0) {
      signal?.throwIfAborted();
      const B = active.length;
      let S: number;
      const ids: bigint[] = [];
      if (phase === "prefill") {
        S = Math.max(...active.map((r) => r.sequence.length));
        for (const r of active) {
          const pad = S - r.sequence.length;
          r.mask = [...new Array(pad).fill(0), ...new Array(r.sequence.length).fill(1)];
          for (let i = 0; i < pad; i++) ids.push(BigInt(model.padTokenId));
          for (const t of r.sequence) ids.push(BigInt(t));
        }
      } else {
        S = 1;
        for (const r of active) {
          r.mask.push(1);
          ids.push(BigInt(r.sequence[r.sequence.length - 1]));
        }
      }
      const T = active[0].mask.length;
      const mask = new BigInt64Array(B * T);
      active.forEach((r, b) => r.mask.forEach((m, t) => mask[b * T + t] = BigInt(m)));
      const feeds: Record<string, WireTensor> = {
        input_ids: tensor("int64", [B, S], BigInt64Array.from(ids)),
        attention_mask: tensor("int64", [B, T], mask),
        position_ids: tensor("int64", [B, S], positionIds(mask, B, T, S)),
        ...past,
      };
      const valid = new Uint8Array(B * S);
      active.forEach((r, b) => {
        for (let s = 0; s < S; s++) valid[b * S + s] = r.mask[T - S + s];
      });
      extraFeeds(feeds, B, S, phase, valid);

      const t0 = performance.now();
      const out = await session.run(feeds, outputs);
      stats.calls++;
      const events = sampleStep(out.logits);
      const ms = performance.now() - t0;
      if (phase === "prefill") stats.prefillMs += ms;
      else {
        stats.decodeMs += ms;
        decodeTokens += B;
      }
      for (const e of events) yield e;

      const keep = active.map((r, b) => r.finish ? -1 : b).filter((b) => b >= 0);
      past = {};
      for (let i = 0; i < shape.numLayers; i++) {
        for (const kind of ["key", "value"] as const) {
          const present = out[presentName(i, kind)];
          past[pastName(i, kind)] = keep.length === B ? present : selectRows(present, keep);
        }
      }
      active = keep.map((b) => active[b]);
      phase = "decode";
    }
  }
  stats.prefillTokensPerSecond = stats.prefillMs > 0
    ? stats.promptTokens * n / (stats.prefillMs / 1000)
    : 0;
  stats.decodeTokensPerSecond = stats.decodeMs > 0 ? decodeTokens / (stats.decodeMs / 1000) : 0;
  return {
    seed,
    stats,
    completions: all.map((r) => ({
      prompt: r.prompt,
      index: r.index,
      tokens: r.generated,
      text: r.text,
      finishReason: r.finish ?? "length",
      ...(wantLp ? { logprobs: r.logprobs } : {}),
      ...(r.notice ? { notice: r.notice } : {}),
    })),
  };
}

let nextKvId = 1;

/**
 * Positions a resident cache is fed with for `need` filled ones: whole blocks of `block`, but
 * never past `limit` (what the generation can fill) and never below `need`.
 *
 * @example
 * ```ts
 * import { residentCapacity } from "./generate.ts";
 * console.log(residentCapacity(70, 256), residentCapacity(70, 256, 79)); // 256 79
 * ```
 */
export function residentCapacity(need: number, block: number, limit = Infinity): number {
  return Math.max(need, Math.min(limit, Math.max(block, Math.ceil(need / block) * block)));
}

/**
 * Attention scores one prefill call may hold (floats, 12 MiB): the chunk is cut below
 * `prefillChunk` where batch × heads × chunk × (cache length + chunk) would exceed it. A call
 * holds several tensors of this size at once (scores, masked, normalized, split), so it bounds
 * a long prefill's scratch memory; a larger chunk streams the float32 weights (not prepacked)
 * fewer times. Measured on a 4096-token prompt at the 0.5B shape, two threads: 8 / 12 / 16 MiB
 * prefill at 135-141 / 150-152 / 154-155 tok/s (one process, alternating) and peak at 2.27 /
 * 2.28 / 2.37 GiB, so 16 MiB is over the weights + 0.5 GiB that `bench long` holds it to.
 */
export const SCORE_BUDGET_FLOATS = 3 * 1024 * 1024;
/** The smallest prefill chunk the score budget may cut to. */
const MIN_CHUNK = 32;

/**
 * The longest chunk S whose attention scores, `rows × S × (cached + S)` floats (rows: batch ×
 * query heads; `cached`: the positions fed before the chunk), fit SCORE_BUDGET_FLOATS.
 *
 * @example
 * ```ts
 * import { chunkWithin } from "./generate.ts";
 * console.log(chunkWithin(14, 0), chunkWithin(14, 4096)); // 474 54
 * ```
 */
export function chunkWithin(rows: number, cached: number): number {
  const perRow = SCORE_BUDGET_FLOATS / rows;
  return Math.floor((Math.sqrt(cached * cached + 4 * perRow) - cached) / 2);
}

/**
 * Feeds of one resident-cache call: row b holds `lengths[b]` cached positions in a cache of
 * `capacity`; the call's S new columns (`valid` marks real tokens, padding sits at the front)
 * follow them at positions `lengths[b]...`.
 */
export function residentFeeds(
  lengths: readonly number[],
  capacity: number,
  ids: BigInt64Array,
  valid: Uint8Array,
  B: number,
  S: number,
): Record<string, WireTensor> {
  const T = capacity + S;
  const mask = new BigInt64Array(B * T);
  const pos = new BigInt64Array(B * S).fill(1n);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < lengths[b]; j++) mask[b * T + j] = 1n;
    let p = lengths[b];
    for (let s = 0; s < S; s++) {
      if (!valid[b * S + s]) continue;
      mask[b * T + capacity + s] = 1n;
      pos[b * S + s] = BigInt(p++);
    }
  }
  return {
    input_ids: tensor("int64", [B, S], ids),
    attention_mask: tensor("int64", [B, T], mask),
    position_ids: tensor("int64", [B, S], pos),
  };
}

/**
 * The part of a prefix-cache condition that edits contribute: edits acting on prompt positions
 * (`all`, `prompt`) change the cached keys and values; `response` edits act only on the last
 * prompt position, which is never reused.
 */
function prefixCondition(edits: readonly ResidualEdit[], extra: string): string {
  const parts = edits.filter((e) => e.positions !== "response").map((e) => {
    const v = e.vector;
    const h = createHash("sha256").update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
      .digest("hex");
    return `${e.block}:${e.type}:${e.coefficient}:${e.positions}:${h}`;
  });
  return JSON.stringify([parts, extra]);
}

/** Keeps batch rows `rows` (in order) of a `[B, ...]` tensor. */
function selectRows(t: WireTensor, rows: readonly number[]): WireTensor {
  const per = t.dims.slice(1).reduce((a, b) => a * b, 1);
  const src = t.data as Float32Array;
  const dst = new Float32Array(rows.length * per);
  rows.forEach((b, j) => dst.set(src.subarray(b * per, (b + 1) * per), j * per));
  return tensor("float32", [rows.length, ...t.dims.slice(1)], dst);
}

/**
 * Runs {@link generateStream} to the end and returns the result.
 *
 * @example
 * ```ts
 * import { generate, type DecoderModel } from "./generate.ts";
 * declare const model: DecoderModel;
 * const r = await generate(model, [[1, 2, 3]], { maxNewTokens: 16 });
 * console.log(r.completions[0].text, r.stats.decodeTokensPerSecond);
 * ```
 */
export async function generate(
  model: DecoderModel,
  prompts: readonly (readonly number[])[],
  options: GenerateOptions = {},
): Promise<GenerationResult> {
  const it = generateStream(model, prompts, options);
  for (;;) {
    const step = await it.next();
    if (step.done) return step.value;
  }
}

/** Options of {@link forwardPass}. */
export interface ForwardOptions {
  /** Also return `hidden_states.{j}` for j = 0..numLayers (graph must export them). */
  hiddenStates?: boolean;
  /** Residual edits; the single call counts as a prefill call for the position modes. */
  edits?: readonly ResidualEdit[];
  /** Extra graph inputs (adapter runtime inputs) for the batch, given each row's index. */
  runtimeInputs?: (promptOfRow: readonly number[]) => Record<string, WireTensor>;
  /**
   * Return the logits of only the last `k` positions (`[B, k, V]`; needs a graph with the
   * `num_logits_to_keep` input). Default 0 = every position.
   */
  logitsToKeep?: number;
}

/** Result of {@link forwardPass}: left-padded to the longest sequence. */
export interface ForwardResult {
  /** `[B, S, V]` logits of every position (`[B, k, V]` with `logitsToKeep: k`). */
  logits: WireTensor;
  /** `hidden_states.{j}`, each `[B, S, hidden]`, when asked. */
  hiddenStates?: WireTensor[];
  /** `[B, S]` 1 for real tokens, 0 for left padding. */
  attentionMask: BigInt64Array;
  /** Left padding of each row. */
  padding: number[];
}

/**
 * One full forward pass without a cache (persona-vector extraction, scoring, tests). Sequences are
 * left-padded, as in generation.
 *
 * @example
 * ```ts
 * import { forwardPass, type DecoderModel } from "./generate.ts";
 * declare const model: DecoderModel;
 * const r = await forwardPass(model, [[1, 2, 3]], { hiddenStates: true });
 * console.log(r.hiddenStates?.length); // numLayers + 1
 * ```
 */
export async function forwardPass(
  model: DecoderModel,
  inputIds: readonly (readonly number[])[],
  options: ForwardOptions = {},
): Promise<ForwardResult> {
  const { edits } = checkOptions(model, inputIds, { edits: options.edits, forward: true });
  const { session, shape } = model;
  const B = inputIds.length;
  const S = Math.max(...inputIds.map((p) => p.length));
  const ids = new BigInt64Array(B * S).fill(BigInt(model.padTokenId));
  const mask = new BigInt64Array(B * S);
  const padding = inputIds.map((p) => S - p.length);
  inputIds.forEach((p, b) => {
    p.forEach((t, s) => {
      ids[b * S + padding[b] + s] = BigInt(t);
      mask[b * S + padding[b] + s] = 1n;
    });
  });
  const resident = session.outputNames.includes("kv_new.0.key");
  const feeds: Record<string, WireTensor> = {
    input_ids: tensor("int64", [B, S], ids),
    attention_mask: tensor("int64", [B, S], mask.slice()),
    position_ids: tensor("int64", [B, S], positionIds(mask, B, S, S)),
    ...emptyPast(shape, B, resident),
  };
  if (resident) {
    // One masked zero slot instead of an empty cache: onnxruntime's webgpu provider crashes on
    // zero-sized inputs. A resident graph scores the cache apart from the new block, so the
    // masked slot adds exact zeros and the results are unchanged.
    Object.assign(feeds, maskedPastSlot(shape, B));
    const withSlot = new BigInt64Array(B * (S + 1));
    for (let b = 0; b < B; b++) withSlot.set(mask.subarray(b * S, (b + 1) * S), b * (S + 1) + 1);
    feeds.attention_mask = tensor("int64", [B, S + 1], withSlot);
  }
  const keep = options.logitsToKeep ?? 0;
  if (!Number.isInteger(keep) || keep < 0) {
    throw usage(new RangeError(`logitsToKeep is ${keep}; pass a whole number >= 0`));
  }
  if (session.inputNames.includes("num_logits_to_keep")) {
    feeds.num_logits_to_keep = tensor("int64", [], new BigInt64Array([BigInt(keep)]));
  } else if (keep > 0) {
    throw usage(
      new TypeError("logitsToKeep was given but the graph has no num_logits_to_keep input"),
    );
  }
  if (hasSteeringInputs(session.inputNames)) {
    Object.assign(
      feeds,
      steeringFeeds(shape, edits, { batch: B, seq: S, phase: "prefill", valid: mask }),
    );
  }
  if (options.runtimeInputs) Object.assign(feeds, options.runtimeInputs(inputIds.map((_, b) => b)));
  const outputs = ["logits"];
  if (options.hiddenStates) {
    for (let j = 0; j <= shape.numLayers; j++) {
      const name = `hidden_states.${j}`;
      if (!session.outputNames.includes(name)) {
        throw usage(
          new TypeError(`the graph has no output ${name}; export it with hidden-state outputs`),
        );
      }
      outputs.push(name);
    }
  }
  const out = await session.run(feeds, outputs);
  return {
    logits: out.logits,
    attentionMask: mask,
    padding,
    ...(options.hiddenStates
      ? {
        hiddenStates: Array.from({ length: shape.numLayers + 1 }, (_, j) =>
          out[`hidden_states.${j}`]),
      }
      : {}),
  };
}

/** A resident cache of one zero position per row (`[B, n_kv, 1, d]`, values `[B, n_kv, d, 1]`). */
function maskedPastSlot(shape: DecoderShape, batch: number): Record<string, WireTensor> {
  const out: Record<string, WireTensor> = {};
  const { numKvHeads: h, headDim: d } = shape;
  for (let i = 0; i < shape.numLayers; i++) {
    out[`past_key_values.${i}.key`] = tensor(
      "float32",
      [batch, h, 1, d],
      new Float32Array(batch * h * d),
    );
    out[`past_key_values.${i}.value`] = tensor(
      "float32",
      [batch, h, d, 1],
      new Float32Array(batch * h * d),
    );
  }
  return out;
}
