/**
 * Where a call's time goes: onnxruntime's own per-node profile of decode-shaped steps (one new
 * token after a `--past`-token cache) or prefill-shaped calls (`--seq 64`: a 64-token prompt
 * into an empty cache, as `bench quant` times it) of an exported graph, summed by op type and by
 * node role (the node name without its layer number: `q_proj`, `down_proj`, `lm_head`, …).
 * `MatMulNBits` time over the weight bytes it streams gives the achieved weight bandwidth; the
 * rest is everything else (attention, norms, rotary, the KV concat, graph overhead).
 *
 * The feeds are those of the engine's generation loop: the resident cache is fed as filled
 * before the call (whole blocks of 256 positions; empty: one masked slot), the mask covers the
 * filled positions and the new ones. The first call at the profiled shape is timed on its own
 * (the benchmark's prefill is one).
 *
 * deno run -A benchmark/quant_op_profile.ts <graph dir with model.onnx | model dir>
 *   [--dtype int4[:32]] [--accuracy-level 0..4] [--cache <dir>] [--seq 1] [--past 64]
 *   [--steps 16] [--threads 1] [--nodes 12]
 *
 * Given a model directory (config.json), the graph is exported first with `--dtype` and
 * `--accuracy-level` (`MatMulNBits` compute: 4 = int8 activations, 0/1 = float32) into `--cache`.
 *
 * @module
 */

import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { ModelHub } from "../core/services/model_hub.ts";
import { residentCapacity } from "../core/model/generate.ts";
import { pathExists } from "../core/util/fs.ts";

/** A numeric `--name value` flag of a profiling script, or `dflt`. */
export function flag(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

/** A `--name value` option of a profiling script. */
export function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** One event of onnxruntime's profile (the fields these scripts read). */
export interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  ts: number;
  args?: {
    op_name?: string;
    input_type_shape?: Record<string, number[]>[];
    output_type_shape?: Record<string, number[]>[];
  };
}

/**
 * A node's role, the same in every layer: a product's op and `K→N` (first input's last axis,
 * output's last axis), otherwise the op and its node name without layer numbers.
 */
export function nodeRole(e: ProfileEvent): string {
  const op = e.args?.op_name ?? "?";
  const last = (s?: Record<string, number[]>[]) => {
    const dims = s?.[0] ? Object.values(s[0])[0] : undefined;
    return dims?.[dims.length - 1];
  };
  if (/MatMul|Gemm/.test(op)) {
    return `${op} ${last(e.args?.input_type_shape)}→${last(e.args?.output_type_shape)}`;
  }
  return `${op} ${e.name.replace(/_kernel_time$/, "").replace(/\d+/g, "#")}`;
}

/** `--config key=value` flags as onnxruntime-node's nested `extra` session options. */
function configEntries(args: string[]): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  args.forEach((a, i) => {
    if (a !== "--config") return;
    const [key, value] = args[i + 1].split("=");
    const path = key.split(".");
    let at = extra;
    for (const p of path.slice(0, -1)) at = (at[p] ??= {}) as Record<string, unknown>;
    at[path[path.length - 1]] = value;
  });
  return extra;
}

/** Exports (or finds in `cache`) the graph of a model directory in the given weight format. */
async function exportGraph(
  modelDir: string,
  dtype: string,
  accuracyLevel: number | undefined,
  cache: string,
): Promise<string> {
  const engine = await new ModelHub({ cacheDir: cache, dtype, threads: 1 })
    .openEngine(modelDir, { prefixCacheBytes: 0, accuracyLevel });
  const path = engine.graphPath;
  await engine.close();
  return path;
}

if (import.meta.main) {
  const [dir, ...rest] = Deno.args;
  const seq = flag(rest, "--seq", 1);
  const past = flag(rest, "--past", seq > 1 ? 0 : 64);
  const steps = flag(rest, "--steps", 16);
  const threads = flag(rest, "--threads", 1);
  const topNodes = flag(rest, "--nodes", 12);
  const level = option(rest, "--accuracy-level");
  const graph = (await pathExists(join(dir, "config.json")))
    ? await exportGraph(
      dir,
      option(rest, "--dtype") ?? "int4",
      level === undefined ? undefined : Number(level),
      option(rest, "--cache") ?? join(".cache", "bench", "quant-profile"),
    )
    : join(dir, "model.onnx");
  const prefix = join(await Deno.makeTempDir({ prefix: "dramatis_prof_" }), "prof");
  const session = await ort.InferenceSession.create(graph, {
    graphOptimizationLevel: "all",
    intraOpNumThreads: threads,
    enableProfiling: !rest.includes("--no-profile"),
    profileFilePrefix: prefix,
    logSeverityLevel: 4,
    // --config key=value (repeatable): session configuration entries, e.g. mlas.use_lut_gemm=1.
    extra: configEntries(rest),
  });
  const meta = (session as unknown as {
    inputMetadata: { name: string; type?: string; shape?: (number | string)[] }[];
  }).inputMetadata;
  // The engine's rule for a prompt of `past + seq` tokens and one new token: a call is fed the
  // cache as filled before it, in whole blocks (an empty cache as one masked slot).
  const capacity = past > 0 ? residentCapacity(past, 256, past + seq) : 1;
  const feedsFor = (s: number) => {
    const feeds: Record<string, ort.Tensor> = {};
    for (const m of meta) {
      // The past sits on axis 2 of keys and axis 3 of resident (transposed) values.
      const dims = (m.shape ?? []).map((d) =>
        typeof d === "number"
          ? d
          : d === "past_sequence_length"
          ? capacity
          : d === "sequence_length"
          ? s
          : 1
      );
      const n = dims.reduce((a, b) => a * b, 1);
      if (m.name === "attention_mask") {
        dims[1] = capacity + s;
        const mask = new BigInt64Array(capacity + s);
        mask.fill(1n, 0, past);
        mask.fill(1n, capacity);
        feeds[m.name] = new ort.Tensor("int64", mask, dims);
      } else if (m.name === "position_ids") {
        feeds[m.name] = new ort.Tensor(
          "int64",
          BigInt64Array.from({ length: n }, (_, i) => BigInt(past + i)),
          dims,
        );
      } else if (m.name === "num_logits_to_keep") {
        feeds[m.name] = new ort.Tensor("int64", new BigInt64Array([1n]), []);
      } else if (m.type === "int64") {
        feeds[m.name] = new ort.Tensor(
          "int64",
          BigInt64Array.from({ length: n }, (_, i) => BigInt(10 + (i * 7919) % 1000)),
          dims,
        );
      } else if (m.type === "bool") {
        feeds[m.name] = new ort.Tensor("bool", new Uint8Array(n), dims);
      } else {
        feeds[m.name] = new ort.Tensor("float32", new Float32Array(n), dims);
      }
    }
    return feeds;
  };
  // Warm-up at another shape (as the benchmark's 8-token warm-up), then the first call at this
  // shape on its own, then the steady calls.
  // The outputs the engine fetches: logits and the new keys and values (not hidden states).
  const fetches = session.outputNames.filter((n) =>
    n === "logits" || n.startsWith("kv_new.") ||
    n.startsWith("present.")
  );
  await session.run(feedsFor(seq > 1 ? 8 : 2), fetches);
  const feeds = feedsFor(seq);
  const f0 = performance.now();
  await session.run(feeds, fetches);
  const first = performance.now() - f0;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await session.run(feeds, fetches);
  const wall = (performance.now() - t0) / steps;
  (session as unknown as { endProfiling(): void }).endProfiling();
  await session.release();
  const dirOf = prefix.slice(0, prefix.lastIndexOf("/"));
  let events: ProfileEvent[] = [];
  for await (const e of Deno.readDir(dirOf)) {
    events = JSON.parse(await Deno.readTextFile(join(dirOf, e.name)));
  }
  await Deno.remove(dirOf, { recursive: true });
  // Only the steady calls: skip the warm-up and the first call at the shape.
  const runs: { start: number; end: number }[] = [];
  for (const e of events) {
    if (e.cat === "Session" && e.name === "model_run") {
      runs.push({ start: e.ts, end: e.ts + e.dur });
    }
  }
  const steady = runs.slice(2);
  const inSteady = (ts: number) => steady.some((r) => ts >= r.start && ts <= r.end);
  const byOp = new Map<string, number>();
  const byRole = new Map<string, number>();
  for (const e of events) {
    if (e.cat !== "Node" || !e.name.endsWith("_kernel_time") || !inSteady(e.ts)) continue;
    const op = e.args?.op_name ?? "?";
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
    const role = nodeRole(e);
    byRole.set(role, (byRole.get(role) ?? 0) + e.dur);
  }
  const per = (us: number) => us / 1000 / Math.max(steady.length, 1);
  const total = [...byOp.values()].reduce((a, b) => a + b, 0);
  console.log(
    `${graph}: ${seq} token(s) per call after ${past} cached (capacity ${capacity}), ` +
      `${threads} thread(s): first call at this shape ${first.toFixed(1)} ms, then ` +
      `${wall.toFixed(2)} ms per call (wall, ${steps} calls; ${
        (seq * 1000 / wall).toFixed(1)
      } tok/s); kernels ${per(total).toFixed(2)} ms per call over ${steady.length} profiled calls`,
  );
  const show = (title: string, m: Map<string, number>, n: number) => {
    console.log(title);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) {
      console.log(
        `  ${k.padEnd(60)} ${per(us).toFixed(3).padStart(9)} ms  ${
          (100 * us / total).toFixed(1).padStart(5)
        }%`,
      );
    }
  };
  show("by op type:", byOp, 12);
  show("by node role (all layers):", byRole, topNodes);
}
