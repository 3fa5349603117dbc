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

type Ort = typeof import("onnxruntime-node");
type OrtSessionT = Awaited<ReturnType<Ort["InferenceSession"]["create"]>>;
type OrtTensor = InstanceType<Ort["Tensor"]>;

let ort: Ort | undefined;
let session: OrtSessionT | undefined;
let released = false;
let queue: Promise<void> = Promise.resolve();

interface Request {
  id: number;
  op: "create" | "run" | "release";
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
  if (!session) {
    throw new Error(released ? "the session was released" : "the session was never created");
  }
  const feeds: Record<string, OrtTensor> = {};
  for (const [name, t] of Object.entries(req.feeds ?? {})) feeds[name] = toOrt(t);
  const results = req.outputNames && req.outputNames.length > 0
    ? await session.run(feeds, req.outputNames)
    : await session.run(feeds);
  const out: Record<string, WireTensor> = {};
  for (const [name, t] of Object.entries(results)) out[name] = fromOrt(t as OrtTensor);
  for (const t of Object.values(feeds)) (t as unknown as { dispose?: () => void }).dispose?.();
  return { value: out, transfer: transferList(Object.values(out)) };
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
