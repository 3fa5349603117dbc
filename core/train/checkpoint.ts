/**
 * Training checkpoints: parameters, AdamW moments, step and the data-order state, written into a
 * fresh directory that is renamed into place, then pointed to by `latest.json` (written
 * atomically) — a crash never leaves a half checkpoint that resume would pick up.
 *
 * Layout: `<out>/checkpoints/step-000120/{adapter.safetensors, optimizer.safetensors,
 * trainer_state.json}` and `<out>/checkpoints/latest.json`.
 *
 * @module
 */

import { join } from "node:path";
import { withCode } from "../errors.ts";
import { decodeSafetensors, encodeSafetensors, type RawTensor } from "../model/safetensors.ts";
import { writeJsonAtomic } from "../util/atomic.ts";
import type { AdamWState, NamedTensor } from "./adamw.ts";

/** Everything needed to continue a run exactly. */
export interface CheckpointState {
  /** Optimizer steps completed. */
  step: number;
  params: NamedTensor[];
  optimizer: AdamWState;
  /** The data-order state: the run seed (epoch orders derive from it) and the micro-batch cursor. */
  rng: { seed: number; microBatch: number };
  /** Free-form run facts (config fingerprint, last loss…). */
  extra: Record<string, unknown>;
}

const f32 = (shape: number[], data: Float32Array): RawTensor => ({ dtype: "F32", shape, data });

/**
 * Writes a checkpoint under `<out>/checkpoints/` and returns its directory. With `keep`, older
 * checkpoints beyond the newest `keep` are removed.
 *
 * @example
 * ```ts
 * import { saveCheckpoint } from "./checkpoint.ts";
 * import type { CheckpointState } from "./checkpoint.ts";
 * declare const state: CheckpointState;
 * console.log(await saveCheckpoint("runs/exp1", state, { keep: 2 }));
 * ```
 */
export async function saveCheckpoint(
  out: string,
  state: CheckpointState,
  options: { keep?: number } = {},
): Promise<string> {
  const root = join(out, "checkpoints");
  const name = `step-${String(state.step).padStart(6, "0")}`;
  const final = join(root, name);
  const tmp = join(root, `.${name}.${crypto.randomUUID()}.tmp`);
  await Deno.mkdir(tmp, { recursive: true });
  try {
    const params = new Map(state.params.map((p) => [p.name, f32(p.shape, p.data)]));
    await Deno.writeFile(join(tmp, "adapter.safetensors"), encodeSafetensors(params));
    const moments = new Map<string, RawTensor>();
    for (const p of state.params) {
      moments.set(`m.${p.name}`, f32(p.shape, state.optimizer.m.get(p.name)!));
      moments.set(`v.${p.name}`, f32(p.shape, state.optimizer.v.get(p.name)!));
    }
    await Deno.writeFile(
      join(tmp, "optimizer.safetensors"),
      encodeSafetensors(moments, { step: String(state.optimizer.step) }),
    );
    await Deno.writeTextFile(
      join(tmp, "trainer_state.json"),
      JSON.stringify({ step: state.step, rng: state.rng, extra: state.extra }, null, 2) + "\n",
    );
    await Deno.remove(final, { recursive: true }).catch(() => {});
    await Deno.rename(tmp, final);
  } catch (error) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw error;
  }
  await writeJsonAtomic(join(root, "latest.json"), { step: state.step, path: name });
  if (options.keep && options.keep > 0) {
    const all = [...Deno.readDirSync(root)]
      .filter((e) => e.isDirectory && /^step-\d+$/.test(e.name))
      .map((e) => e.name)
      .sort();
    for (const old of all.slice(0, Math.max(0, all.length - options.keep))) {
      await Deno.remove(join(root, old), { recursive: true });
    }
  }
  return final;
}

function corrupt(path: string, what: string): Error {
  return withCode(
    new SyntaxError(`checkpoint ${path}: ${what}; delete the checkpoint directory to start over`),
    "E_CONFIG",
  );
}

/**
 * Loads the checkpoint `latest.json` points to, or returns null when there is none.
 *
 * @example
 * ```ts
 * import { loadLatestCheckpoint } from "./checkpoint.ts";
 * const ck = await loadLatestCheckpoint("runs/exp1");
 * console.log(ck?.step ?? "fresh start");
 * ```
 */
export async function loadLatestCheckpoint(out: string): Promise<CheckpointState | null> {
  const root = join(out, "checkpoints");
  let latest: { step: number; path: string };
  try {
    latest = JSON.parse(await Deno.readTextFile(join(root, "latest.json")));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw corrupt(join(root, "latest.json"), `unreadable (${(error as Error).message})`);
  }
  const dir = join(root, latest.path);
  const meta = JSON.parse(await Deno.readTextFile(join(dir, "trainer_state.json")));
  const params = decodeSafetensors(await Deno.readFile(join(dir, "adapter.safetensors")), dir);
  const opt = decodeSafetensors(await Deno.readFile(join(dir, "optimizer.safetensors")), dir);
  const named: NamedTensor[] = [];
  const m = new Map<string, Float32Array>();
  const v = new Map<string, Float32Array>();
  for (const [name, t] of params.tensors) {
    if (!(t.data instanceof Float32Array)) throw corrupt(dir, `parameter "${name}" is not F32`);
    named.push({ name, shape: t.shape, data: Float32Array.from(t.data) });
    const mt = opt.tensors.get(`m.${name}`)?.data;
    const vt = opt.tensors.get(`v.${name}`)?.data;
    if (!(mt instanceof Float32Array) || !(vt instanceof Float32Array)) {
      throw corrupt(dir, `optimizer moments of "${name}" are missing`);
    }
    m.set(name, Float32Array.from(mt));
    v.set(name, Float32Array.from(vt));
  }
  return {
    step: meta.step,
    params: named,
    optimizer: { step: Number(opt.metadata.step ?? meta.step), m, v },
    rng: meta.rng,
    extra: meta.extra ?? {},
  };
}
