/**
 * What bounds decode: onnxruntime's own per-node profile of decode-shaped steps (one new token
 * after a `--past`-token cache) of an exported graph, summed by op type. `MatMulNBits` time over
 * the weight bytes it streams gives the achieved weight bandwidth; the rest is everything else
 * (attention, norms, rotary, the KV concat, graph overhead).
 *
 * deno run -A benchmark/quant_op_profile.ts <graph dir with model.onnx> [--past 64] [--steps 16]
 *   [--threads 1]
 *
 * @module
 */

import { join } from "node:path";
import * as ort from "onnxruntime-node";

function flag(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

interface Event {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string };
}

if (import.meta.main) {
  const [dir, ...rest] = Deno.args;
  const past = flag(rest, "--past", 64);
  const steps = flag(rest, "--steps", 16);
  const threads = flag(rest, "--threads", 1);
  const prefix = join(await Deno.makeTempDir({ prefix: "dramatis_prof_" }), "prof");
  const session = await ort.InferenceSession.create(join(dir, "model.onnx"), {
    graphOptimizationLevel: "all",
    intraOpNumThreads: threads,
    enableProfiling: true,
    profileFilePrefix: prefix,
    logSeverityLevel: 4,
  });
  const meta = (session as unknown as {
    inputMetadata: { name: string; type?: string; shape?: (number | string)[] }[];
  }).inputMetadata;
  const feeds: Record<string, ort.Tensor> = {};
  for (const m of meta) {
    // The past length sits on axis 2 of keys and axis 3 of resident (transposed) values.
    const dims = (m.shape ?? []).map((d) =>
      typeof d === "number" ? d : d === "past_sequence_length" ? past : 1
    );
    if (m.name === "attention_mask") dims[1] = past + 1;
    const n = dims.reduce((a, b) => a * b, 1);
    if (m.type === "int64") {
      const v = m.name === "position_ids" ? BigInt(past) : 1n;
      feeds[m.name] = new ort.Tensor("int64", new BigInt64Array(n).fill(v), dims);
    } else if (m.type === "bool") {
      feeds[m.name] = new ort.Tensor("bool", new Uint8Array(n), dims);
    } else {
      feeds[m.name] = new ort.Tensor("float32", new Float32Array(n), dims);
    }
  }
  await session.run(feeds); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await session.run(feeds);
  const wall = (performance.now() - t0) / steps;
  (session as unknown as { endProfiling(): void }).endProfiling();
  await session.release();
  const dirOf = prefix.slice(0, prefix.lastIndexOf("/"));
  let events: Event[] = [];
  for await (const e of Deno.readDir(dirOf)) {
    events = JSON.parse(await Deno.readTextFile(join(dirOf, e.name)));
  }
  await Deno.remove(dirOf, { recursive: true });
  const byOp = new Map<string, number>();
  let runs = 0;
  for (const e of events) {
    if (e.cat === "Session" && e.name === "model_run") runs++;
    if (e.cat !== "Node" || !e.name.endsWith("_kernel_time")) continue;
    const op = e.args?.op_name ?? "?";
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
  }
  const per = (us: number) => us / 1000 / Math.max(runs, 1);
  const total = [...byOp.values()].reduce((a, b) => a + b, 0);
  console.log(
    `${dir}: ${wall.toFixed(2)} ms per decode step (wall, ${steps} steps, past ${past}, ` +
      `${threads} thread(s)); kernels ${per(total).toFixed(2)} ms over ${runs} profiled runs`,
  );
  for (const [op, us] of [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
    console.log(
      `  ${op.padEnd(28)} ${per(us).toFixed(3).padStart(8)} ms  ${
        (100 * us / total).toFixed(1).padStart(5)
      }%`,
    );
  }
}
