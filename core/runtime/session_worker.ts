/**
 * Worker side of {@link OrtSession}: owns one onnxruntime-node `InferenceSession`. onnxruntime-node
 * 1.30 runs a model synchronously on the JS thread, so each session lives on its own worker and
 * the main thread stays free for I/O. Requests are handled strictly in arrival order.
 *
 * Messages in: `{ id, op: "create", path, options }`, `{ id, op: "run", feeds, outputNames }`,
 * `{ id, op: "release" }`. Messages out: `{ id, ok: true, value }` or
 * `{ id, ok: false, error: { name, message, code? } }`. Output buffers are transferred.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import type { TensorDType, WireTensor } from "./tensor.ts";
import { transferList } from "./tensor.ts";
import { type KvAction, type KvCall, type KvSnapshot, KvStore } from "./kv_store.ts";

type Ort = typeof import("onnxruntime-node");
type OrtSessionT = Awaited<ReturnType<Ort["InferenceSession"]["create"]>>;
type OrtTensor = InstanceType<Ort["Tensor"]>;

let ort: Ort | undefined;
let session: OrtSessionT | undefined;
let released = false;
let queue: Promise<void> = Promise.resolve();
/** Resident KV caches by id, and saved prefixes by key (the main thread decides what to keep). */
const stores = new Map<number, KvStore>();
const prefixes = new Map<string, KvSnapshot>();

interface Request {
  id: number;
  op: "create" | "run" | "release" | "kv";
  kv?: KvCall;
  kvAction?: KvAction;
  path?: string;
  options?: Record<string, unknown>;
  feeds?: Record<string, WireTensor>;
  outputNames?: string[];
}

function toOrt(t: WireTensor): OrtTensor {
  const o = ort!;
  if (t.dtype === "float16") {
    // onnxruntime-common wraps fp16 data as Float16Array when the global exists, and the Deno
    // binding then sees 0 bytes; hand it the raw Uint16Array bits instead.
    const x = new o.Tensor("float16", t.data as Uint16Array, t.dims);
    (x as unknown as { cpuData: unknown }).cpuData = t.data;
    return x;
  }
  return new o.Tensor(t.dtype as "float32", t.data as Float32Array, t.dims);
}

function fromOrt(t: OrtTensor): WireTensor {
  const dtype = t.type as TensorDType;
  let data = t.data as unknown as ArrayBufferView;
  if (dtype === "float16" && !(data instanceof Uint16Array)) {
    data = new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
  }
  return { dtype, dims: [...t.dims], data } as WireTensor;
}

async function handle(req: Request): Promise<{ value: unknown; transfer: ArrayBuffer[] }> {
  if (req.op === "create") {
    ort = await import("onnxruntime-node");
    session = await ort.InferenceSession.create(req.path!, req.options ?? {});
    const meta = (list: readonly unknown[]) =>
      list.map((m) => {
        const r = m as { name: string; isTensor: boolean; type?: string; shape?: unknown[] };
        return { name: r.name, isTensor: r.isTensor, type: r.type, shape: r.shape };
      });
    const s = session as unknown as { inputMetadata: unknown[]; outputMetadata: unknown[] };
    return {
      value: {
        inputNames: [...session.inputNames],
        outputNames: [...session.outputNames],
        inputMetadata: meta(s.inputMetadata ?? []),
        outputMetadata: meta(s.outputMetadata ?? []),
      },
      transfer: [],
    };
  }
  if (req.op === "release") {
    released = true;
    const s = session;
    session = undefined;
    await s?.release();
    return { value: null, transfer: [] };
  }
  if (req.op === "kv") return { value: kvAction(req.kvAction!), transfer: [] };
  if (!session) {
    throw new Error(released ? "the session was released" : "the session was never created");
  }
  const feeds: Record<string, OrtTensor> = {};
  for (const [name, t] of Object.entries(req.feeds ?? {})) feeds[name] = toOrt(t);
  let store: KvStore | undefined;
  let outputNames = req.outputNames;
  if (req.kv) {
    const k = req.kv;
    store = stores.get(k.id);
    if (!store) stores.set(k.id, store = new KvStore(k.shape));
    store.ensure(k.batch, k.capacity);
    for (const [name, t] of Object.entries(store.feeds())) feeds[name] = toOrt(t);
    const kvOut = session.outputNames.filter((n) => n.startsWith("kv_new."));
    outputNames = [...new Set([...(outputNames ?? []), ...kvOut])];
  }
  const results = outputNames && outputNames.length > 0
    ? await session.run(feeds, outputNames)
    : await session.run(feeds);
  const out: Record<string, WireTensor> = {};
  for (const [name, t] of Object.entries(results)) out[name] = fromOrt(t as OrtTensor);
  for (const t of Object.values(feeds)) (t as unknown as { dispose?: () => void }).dispose?.();
  if (store && req.kv) {
    if (req.kv.appendCapacity !== undefined) store.ensure(req.kv.batch, req.kv.appendCapacity);
    store.append(out, req.kv.appends);
    const asked = new Set(req.outputNames ?? []);
    for (const name of Object.keys(out)) {
      if (name.startsWith("kv_new.") && !asked.has(name)) delete out[name];
    }
  }
  return { value: out, transfer: transferList(Object.values(out)) };
}

function kvAction(a: KvAction): unknown {
  const need = (id: number) => {
    const st = stores.get(id);
    if (!st) throw new Error(`KV cache ${id} does not exist (released, or never run)`);
    return st;
  };
  switch (a.action) {
    case "select":
      need(a.id).select(a.rows);
      return null;
    case "prepare": {
      let st = stores.get(a.id);
      if (!st) stores.set(a.id, st = new KvStore(a.shape));
      if (a.reserve !== undefined) st.reserve(Math.max(a.reserve, a.capacity));
      st.ensure(a.batch, a.capacity);
      return null;
    }
    case "release":
      stores.delete(a.id);
      return null;
    case "save": {
      const snap = need(a.id).snapshot(a.row, a.length);
      prefixes.set(a.key, snap);
      return snap.bytes;
    }
    case "restore": {
      const snap = prefixes.get(a.key);
      if (!snap) throw new Error(`KV prefix ${a.key} is not held by this session`);
      need(a.id).restore(a.row, snap, a.length);
      return null;
    }
    case "drop":
      prefixes.delete(a.key);
      return null;
  }
}

self.onmessage = (event: MessageEvent<Request>) => {
  const req = event.data;
  queue = queue.then(async () => {
    try {
      const { value, transfer } = await handle(req);
      try {
        self.postMessage({ id: req.id, ok: true, value }, transfer);
      } catch {
        // A buffer the binding owns may refuse to detach: send a copy instead.
        self.postMessage({ id: req.id, ok: true, value });
      }
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      self.postMessage({
        id: req.id,
        ok: false,
        error: { name: err.name, message: err.message, code: (err as { code?: unknown }).code },
      });
    }
  });
};
