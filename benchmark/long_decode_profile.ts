/**
 * Where a decode step's time goes at a short and a long context, for the resident-cache graph
 * the engine runs (`kvCache: "resident"`): each step is timed in parts, in this process (no
 * worker), with the engine's session options: building the feeds, `session.run`, writing the
 * new KV columns into place, and the argmax over the logits. `--ort-profile` adds onnxruntime's
 * own per-node profile summed by op type (and the attention nodes by name).
 *
 * deno run -A benchmark/long_decode_profile.ts <graph dir with model.onnx> [--contexts 64,4096]
 *   [--steps 16] [--threads 1] [--block 256] [--ort-profile]
 *
 * @module
 */

import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { residentCapacity, residentFeeds } from "../core/model/generate.ts";
import { KvStore } from "../core/runtime/kv_store.ts";
import { flag, option, type ProfileEvent } from "./quant_op_profile.ts";
import type { WireTensor } from "../core/runtime/tensor.ts";
import { median } from "./timing.ts";

function toOrt(t: WireTensor): ort.Tensor {
  return new ort.Tensor(t.dtype as "float32", t.data as Float32Array, t.dims);
}

/** This thread's time on a CPU so far (ms), from the scheduler's own accounting. */
function cpuMs(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/thread-self/schedstat").split(" ")[0]) / 1e6;
  } catch {
    return NaN;
  }
}

if (import.meta.main) {
  const [dir, ...rest] = Deno.args;
  if (!dir || dir.startsWith("-")) {
    console.error(
      "usage: deno run -A benchmark/long_decode_profile.ts <graph dir with model.onnx> " +
        "[--contexts 64,4096] [--steps 16] [--threads 1] [--block 256] [--ort-profile]",
    );
    Deno.exit(2);
  }
  const contexts = (option(rest, "--contexts") ?? "64,4096").split(",").map(Number);
  const steps = flag(rest, "--steps", 16);
  const threads = flag(rest, "--threads", 1);
  const block = flag(rest, "--block", 256);
  const profile = rest.includes("--ort-profile");
  const prefix = profile
    ? join(await Deno.makeTempDir({ prefix: "dramatis_prof_" }), "prof")
    : undefined;
  const session = await ort.InferenceSession.create(join(dir, "model.onnx"), {
    graphOptimizationLevel: "all",
    intraOpNumThreads: threads,
    logSeverityLevel: 4,
    extra: { session: { disable_prepacking: "1" } },
    ...(prefix ? { enableProfiling: true, profileFilePrefix: prefix } : {}),
  });
  const meta = (session as unknown as {
    inputMetadata: { name: string; shape?: (number | string)[] }[];
  }).inputMetadata;
  const kvInput = meta.find((m) => m.name === "past_key_values.0.key")!;
  const numLayers = meta.filter((m) => m.name.endsWith(".key")).length;
  const shape = {
    numLayers,
    numKvHeads: kvInput.shape![1] as number,
    headDim: kvInput.shape![3] as number,
  };
  const kvOut = session.outputNames.filter((n) => n.startsWith("kv_new."));
  const keepLogits = session.inputNames.includes("num_logits_to_keep");
  const capacityFor = (n: number) => residentCapacity(n, block);
  const rows: string[] = [];
  for (const ctx of contexts) {
    const kv = new KvStore(shape);
    kv.reserve(capacityFor(ctx + steps + 2));
    kv.ensure(1, capacityFor(ctx + 1));
    for (const t of Object.values(kv.feeds())) {
      const d = t.data as Float32Array;
      for (let i = 0; i < d.length; i++) d[i] = Math.sin(i * 0.37) * 0.5;
    }
    const parts = { feeds: [] as number[], run: [] as number[], append: [] as number[] };
    const argmax: number[] = [];
    const total: number[] = [];
    let len = ctx;
    let token = 11;
    const prefillS = flag(rest, "--prefill-call", 0);
    if (prefillS > 0) {
      // One prefill-shaped call first (the engine's last chunk), as after a real prompt: fed the
      // cache as filled before it, as the engine feeds it.
      const C = len > prefillS ? capacityFor(len - prefillS) : 1;
      kv.ensure(1, C);
      const ids = new BigInt64Array(prefillS).fill(11n);
      const feeds = residentFeeds(
        [len - prefillS],
        C,
        ids,
        new Uint8Array(prefillS).fill(1),
        1,
        prefillS,
      );
      if (keepLogits) {
        feeds.num_logits_to_keep = { dtype: "int64", dims: [], data: new BigInt64Array([1n]) };
      }
      Object.assign(feeds, kv.feeds());
      const of: Record<string, ort.Tensor> = {};
      for (const [n, t] of Object.entries(feeds)) of[n] = toOrt(t);
      const t0 = performance.now();
      await session.run(of, ["logits", ...kvOut]);
      console.log(`  prefill-shaped call S=${prefillS}: ${(performance.now() - t0).toFixed(1)} ms`);
    }
    const every: number[] = [];
    const cpu: number[] = [];
    for (let s = -2; s < steps; s++) {
      const t0 = performance.now();
      // The engine's rule: fed the cache as filled (whole blocks), grown for the new position
      // after the run.
      const C = capacityFor(len);
      kv.ensure(1, C);
      const feeds = residentFeeds(
        [len],
        C,
        new BigInt64Array([BigInt(token)]),
        new Uint8Array([1]),
        1,
        1,
      );
      if (keepLogits) {
        feeds.num_logits_to_keep = { dtype: "int64", dims: [], data: new BigInt64Array([1n]) };
      }
      Object.assign(feeds, kv.feeds());
      const of: Record<string, ort.Tensor> = {};
      for (const [n, t] of Object.entries(feeds)) of[n] = toOrt(t);
      const c1 = cpuMs();
      const t1 = performance.now();
      const res = await session.run(of, ["logits", ...kvOut]);
      const t2 = performance.now();
      const c2 = cpuMs();
      const out: Record<string, WireTensor> = {};
      for (const [n, t] of Object.entries(res)) {
        out[n] = { dtype: "float32", dims: [...t.dims], data: t.data as Float32Array };
      }
      kv.ensure(1, capacityFor(len + 1));
      kv.append(out, [{ row: 0, from: 0, count: 1, at: len }]);
      const t3 = performance.now();
      const logits = out.logits.data as Float32Array;
      let best = 0;
      for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
      token = best;
      len++;
      const t4 = performance.now();
      every.push(t2 - t1);
      if (s < 0) continue; // warm-up steps
      cpu.push(c2 - c1);
      parts.feeds.push(t1 - t0);
      parts.run.push(t2 - t1);
      parts.append.push(t3 - t2);
      argmax.push(t4 - t3);
      total.push(t4 - t0);
    }
    const f = (xs: number[]) => median(xs).toFixed(2).padStart(7);
    rows.push(
      `context ${String(ctx).padStart(5)} (capacity ${capacityFor(ctx + 1)}): step ${f(total)} ms` +
        ` = feeds ${f(parts.feeds)} + run ${f(parts.run)} + append ${f(parts.append)}` +
        ` + argmax ${f(argmax)}; run on CPU ${f(cpu)} min ${
          Math.min(...cpu).toFixed(2)
        }  (medians of ${steps}; ${(1000 / median(total)).toFixed(2)} tok/s)`,
    );
    console.log(rows.at(-1));
    console.log("  run per step from the first: " + every.map((x) => x.toFixed(1)).join(" "));
  }
  if (prefix) {
    (session as unknown as { endProfiling(): void }).endProfiling();
    await session.release();
    const dirOf = prefix.slice(0, prefix.lastIndexOf("/"));
    let events: ProfileEvent[] = [];
    for await (const e of Deno.readDir(dirOf)) {
      events = JSON.parse(await Deno.readTextFile(join(dirOf, e.name)));
    }
    await Deno.remove(dirOf, { recursive: true });
    // Runs are in context order: split them evenly (warm-up steps included).
    const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run");
    const per = runs.length / contexts.length;
    let run = -1;
    const sums = contexts.map(() => new Map<string, number>());
    const names = contexts.map(() => new Map<string, number>());
    for (const e of events) {
      if (e.cat === "Session" && e.name === "model_run") run++;
      if (e.cat !== "Node" || !e.name.endsWith("_kernel_time") || run < 0) continue;
      const c = Math.min(contexts.length - 1, Math.floor(run / per));
      const op = e.args?.op_name ?? "?";
      sums[c].set(op, (sums[c].get(op) ?? 0) + e.dur);
      const n = e.name.replace(/_kernel_time$/, "").replace(/layers\.\d+/, "layers.*");
      names[c].set(n, (names[c].get(n) ?? 0) + e.dur);
    }
    const runMs = new Map<number, number[]>();
    run = -1;
    for (const e of events) {
      if (e.cat === "Session" && e.name === "model_run") {
        run++;
        const c = Math.min(contexts.length - 1, Math.floor(run / per));
        runMs.set(c, [...(runMs.get(c) ?? []), e.dur / 1000]);
      }
    }
    contexts.forEach((ctx, c) => {
      const k = per;
      const tot = [...sums[c].values()].reduce((a, b) => a + b, 0) / 1000 / k;
      console.log(
        `\ncontext ${ctx}: kernels ${tot.toFixed(2)} ms per run, model_run ${
          median(runMs.get(c)!).toFixed(2)
        } ms (median)`,
      );
      for (const [op, us] of [...sums[c]].sort((a, b) => b[1] - a[1]).slice(0, 14)) {
        console.log(`  ${op.padEnd(34)} ${(us / 1000 / k).toFixed(3).padStart(8)} ms`);
      }
      console.log("  by node (all layers):");
      for (const [n, us] of [...names[c]].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
        console.log(`    ${n.padEnd(60)} ${(us / 1000 / k).toFixed(3).padStart(8)} ms`);
      }
    });
  } else {
    await session.release();
  }
}
