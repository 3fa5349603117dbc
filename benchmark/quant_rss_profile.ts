/**
 * Where the resident memory of a quantized load goes: opens one exported graph in a fresh
 * process per onnxruntime setting and reports `VmRSS` / `VmHWM` after the session is created and
 * after one decode-sized run, next to the bytes of the graph's external weights.
 *
 * deno run -A benchmark/quant_rss_profile.ts <graph dir with model.onnx> [--threads 1]
 *   [--settings default,no-prepack] [--prepacked]
 *
 * `--prepacked` also has onnxruntime save the optimized graph with its prepacked weights
 * (`session.save_external_prepacked_constant_initializers`) into a temporary folder, reports how
 * many bytes the kernels' repacked layout takes against the graph's own weights (the floor of a
 * cached load's resident memory while prepacking is on), and profiles that saved graph opened
 * with optimizations `disabled` (its prepacked weights then stay in the mapped file).
 *
 * Settings: `default` (as the engine opens graphs), `no-prepack` (`session.disable_prepacking`),
 * `no-arena` (`enableCpuMemArena: false`), `basic` (graph optimization level basic: no constant
 * folding of large initializers beyond the basic passes).
 *
 * @module
 */

import { join } from "node:path";

const SETTINGS: Record<string, Record<string, unknown>> = {
  default: {},
  "no-prepack": { extra: { session: { disable_prepacking: "1" } } },
  "no-arena": { enableCpuMemArena: false },
  basic: { graphOptimizationLevel: "basic" },
  // For a graph onnxruntime already optimized and saved with its prepacked weights.
  disabled: { graphOptimizationLevel: "disabled" },
};

/** Resident bytes now and at peak, and now split into anonymous memory and mapped file pages. */
function status(): { rss: number; hwm: number; anon: number; file: number } {
  const s = Deno.readTextFileSync("/proc/self/status");
  const f = (t: string, k: string) =>
    Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(t)?.[1] ?? NaN) * 1024;
  return {
    rss: f(s, "VmRSS"),
    hwm: f(s, "VmHWM"),
    anon: f(s, "RssAnon"),
    file: f(s, "RssFile"),
  };
}

async function child(dir: string, setting: string, threads: number) {
  const ort = await import("onnxruntime-node");
  const before = status();
  const file = dir.endsWith(".onnx") ? dir : join(dir, "model.onnx");
  const session = await ort.InferenceSession.create(file, {
    graphOptimizationLevel: "all",
    intraOpNumThreads: threads,
    logSeverityLevel: 4,
    ...SETTINGS[setting],
  } as never);
  const created = status();
  // One decode-sized step: a single token, an empty cache.
  const feeds: Record<string, unknown> = {};
  const meta =
    (session as unknown as { inputMetadata: { name: string; type?: string; shape?: unknown[] }[] })
      .inputMetadata;
  for (const m of meta) {
    const name = m.name;
    // An empty cache: the past length is 0 (its axis differs between keys and resident values).
    const dims = (m.shape ?? []).map((d) =>
      typeof d === "number" ? d : d === "past_sequence_length" ? 0 : 1
    );
    const n = dims.reduce((a, b) => a * b, 1);
    const count = dims.reduce((a, b) => a * b, 1);
    if (m.type === "int64") {
      feeds[name] = new ort.Tensor("int64", new BigInt64Array(count).fill(1n), dims);
    } else if (m.type === "float32") {
      feeds[name] = new ort.Tensor("float32", new Float32Array(count), dims);
    } else if (m.type === "bool") {
      feeds[name] = new ort.Tensor("bool", new Uint8Array(count), dims);
    } else {
      feeds[name] = new ort.Tensor("float32", new Float32Array(n), dims);
    }
  }
  let ran = true;
  try {
    await session.run(feeds as never);
  } catch {
    ran = false;
  }
  const after = status();
  await session.release();
  return { before, created, after, ran };
}

async function externalBytes(dir: string): Promise<number> {
  let total = 0;
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name !== "model.onnx" && e.name !== "done.json") {
      total += (await Deno.stat(join(dir, e.name))).size;
    }
  }
  return total;
}

/** Saves the graph as onnxruntime optimizes it, with its prepacked weights, into `outDir`. */
async function savePrepacked(dir: string, outDir: string, threads: number): Promise<void> {
  const ort = await import("onnxruntime-node");
  const session = await ort.InferenceSession.create(join(dir, "model.onnx"), {
    graphOptimizationLevel: "all",
    intraOpNumThreads: threads,
    logSeverityLevel: 4,
    optimizedModelFilePath: join(outDir, "model.onnx"),
    extra: {
      session: {
        save_external_prepacked_constant_initializers: "1",
        optimized_model_external_initializers_file_name: "model.onnx_data",
        optimized_model_external_initializers_min_size_in_bytes: "1024",
      },
    },
  } as never);
  await session.release();
}

async function profile(dir: string, settings: string[], threads: number) {
  const gib = (x: number) => (x / 2 ** 30).toFixed(3);
  for (const setting of settings) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL(import.meta.url).pathname,
        dir,
        "--child",
        setting,
        "--threads",
        String(threads),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (out.code !== 0) {
      console.log(
        `${setting.padEnd(12)} failed: ${new TextDecoder().decode(out.stderr).slice(-300)}`,
      );
      continue;
    }
    const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
    console.log(
      `${setting.padEnd(12)} ${gib(r.before.rss).padEnd(11)} ${gib(r.created.rss).padEnd(12)} ${
        gib(r.created.hwm).padEnd(12)
      } ${gib(r.after.hwm).padEnd(14)} ${gib(r.after.anon)}/${gib(r.after.file)}${
        r.ran ? "" : " (run failed)"
      }`,
    );
  }
}

if (import.meta.main) {
  const [dir, ...rest] = Deno.args;
  const threads = rest.includes("--threads") ? Number(rest[rest.indexOf("--threads") + 1]) : 1;
  if (rest[0] === "--child") {
    console.log(JSON.stringify(await child(dir, rest[1], threads)));
  } else if (rest[0] === "--save-prepacked") {
    await savePrepacked(dir, rest[1], threads);
  } else {
    const gib = (x: number) => (x / 2 ** 30).toFixed(3);
    const weights = dir.endsWith(".onnx") ? NaN : await externalBytes(dir);
    console.log(`graph ${dir}: external weights ${gib(weights)} GiB`);
    console.log(
      "setting      rss-before  rss-created  hwm-created  hwm-after-run  anon/file-after-run  (GiB)",
    );
    const only = rest.includes("--settings")
      ? rest[rest.indexOf("--settings") + 1].split(",")
      : Object.keys(SETTINGS);
    await profile(dir, only, threads);
    if (rest.includes("--prepacked") && !dir.endsWith(".onnx")) {
      const out = await Deno.makeTempDir({ prefix: "dramatis_prepacked_" });
      try {
        // In its own process: the session that writes the file holds its own copies.
        const r = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", new URL(import.meta.url).pathname, dir, "--save-prepacked", out],
          stdout: "null",
          stderr: "piped",
        }).output();
        if (r.code !== 0) throw new Error(new TextDecoder().decode(r.stderr).slice(-500));
        const saved = (await Deno.stat(join(out, "model.onnx_data"))).size;
        // The saved file holds every initializer plus the kernels' prepacked copies.
        console.log(
          `prepacked layout ${gib(saved - weights)} GiB = ${
            ((saved - weights) / weights).toFixed(3)
          } × the graph's weights; the saved graph opened as is:`,
        );
        await profile(out, ["disabled"], threads);
      } finally {
        await Deno.remove(out, { recursive: true });
      }
    }
  }
}
