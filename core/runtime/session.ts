/**
 * {@link OrtSession}: an onnxruntime-node inference session running on its own Deno Worker, so a
 * long model run never blocks the main thread. Tensors cross as `{ dtype, dims, data }` with their
 * buffers transferred both ways.
 *
 * @module
 */

import { withCode } from "../errors.ts";
import { checkProvider, executionProviders, type Provider } from "./providers.ts";
import { isWireTensor, transferList, type WireTensor } from "./tensor.ts";
import type { KvAction, KvCall } from "./kv_store.ts";
import { type FileRanges, pageOutMappedFiles } from "../util/resident.ts";

/** Options of {@link OrtSession.create}. */
export interface SessionOptions {
  /** Execution provider; default `cpu`. Missing providers throw `E_PROVIDER`, never fall back. */
  provider?: Provider;
  /** Threads inside one op (default: onnxruntime's choice, one per core). */
  intraOpThreads?: number;
  /** onnxruntime graph optimizations; default `all`. Use `basic` for float64 graphs. */
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  /** Write the optimized graph here (for inspecting fusions). */
  optimizedModelFilePath?: string;
  /**
   * onnxruntime's own log level (0 verbose … 4 fatal). Default 4: failures already come back as
   * rejected runs carrying onnxruntime's message, so its stderr copy is noise.
   */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /**
   * onnxruntime's CPU memory arena (default on). Train steps turn it off: the arena grows by
   * doubling and keeps its high-water mark, which a step's large transient buffers (logits,
   * their gradient, dequantized weight chunks) push far above what is live at any moment.
   */
  cpuMemArena?: boolean;
  /**
   * Let kernels repack constant weights at session start (onnxruntime's default, true). Repacked
   * weights are private copies: the initializers' memory-mapped file pages are dropped, and a
   * weight read by two kernels (a tied embedding, read by Gather and the lm_head Gemm) is held
   * twice. False keeps every float weight where it lies in the mapped data file (shared with
   * other processes through the page cache; peak RSS ≈ the weights once) and multiplies from
   * there; quantized `MatMulNBits` weights want their repacked layout, so keep it on for them.
   */
  prepacking?: boolean;
  /**
   * Byte ranges of mapped files whose resident pages to hand back to the system while the session
   * opens (every 25 ms) and once after it has opened, with {@link pageOutMappedFiles}: for
   * data-file tensors onnxruntime keeps mapped but seldom reads again once it has repacked the
   * weights (`keptWeightPages` in `core/model/kept_pages.ts`). Where the platform cannot, nothing
   * happens; nothing it does can fail the session.
   */
  pageOut?: FileRanges;
}

/** Name, element type and shape (symbolic dims as strings) of a graph input or output. */
export interface ValueMetadata {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: (number | string)[];
}

/** Options of one {@link OrtSession.run}. */
export interface RunOptions {
  /**
   * Copy the feed buffers instead of transferring them. By default a feed's `ArrayBuffer` is moved
   * to the worker and becomes detached (length 0) in the caller.
   */
  copyInputs?: boolean;
  /**
   * Feed the resident KV cache `kv.id` (kept on the worker) as `past_key_values.*`, sized to
   * `kv.batch × kv.capacity`, and write the graph's `kv_new.*` rows into it after the run (grown
   * first to `kv.appendCapacity` positions per row when given)
   * (graphs built with `kvCache: "resident"`). The `past_key_values.*` feeds are then not passed.
   */
  kv?: KvCall;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

interface Info {
  inputNames: string[];
  outputNames: string[];
  inputMetadata: ValueMetadata[];
  outputMetadata: ValueMetadata[];
}

/**
 * An onnxruntime session on a dedicated worker. Calls queue in order.
 *
 * @example
 * ```ts
 * import { OrtSession, tensor } from "./mod.ts";
 * const s = await OrtSession.create("model.onnx", { provider: "cpu", intraOpThreads: 2 });
 * const out = await s.run({ x: tensor("float32", [1, 2], new Float32Array([1, 2])) });
 * console.log(out[s.outputNames[0]].data);
 * await s.release();
 * ```
 */
export class OrtSession {
  #worker: Worker;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #info: Info = { inputNames: [], outputNames: [], inputMetadata: [], outputMetadata: [] };
  #closed: string | undefined;
  #provider: Provider;
  #threads: number | undefined;
  #path: string;

  private constructor(path: string, provider: Provider) {
    this.#path = path;
    this.#provider = provider;
    this.#worker = new Worker(new URL("./session_worker.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = (e: MessageEvent) => this.#onMessage(e.data);
    this.#worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#fail(new Error(`session worker for ${this.#path} crashed: ${e.message}`));
    };
  }

  /** Loads a model file into a new worker-backed session. */
  static async create(modelPath: string, options: SessionOptions = {}): Promise<OrtSession> {
    const provider = options.provider ?? "cpu";
    checkProvider(provider);
    if (typeof modelPath !== "string" || modelPath.length === 0) {
      throw withCode(
        new TypeError(`modelPath is ${JSON.stringify(modelPath)}; pass the path of an .onnx file`),
        "E_USAGE",
      );
    }
    try {
      if (!Deno.statSync(modelPath).isFile) throw new Deno.errors.NotFound();
    } catch {
      throw withCode(
        new TypeError(
          `modelPath is "${modelPath}", which is not a readable file; pass an .onnx file`,
        ),
        "E_USAGE",
      );
    }
    const t = options.intraOpThreads;
    if (t !== undefined && (!Number.isInteger(t) || t < 0)) {
      throw withCode(
        new RangeError(`intraOpThreads is ${t}; pass a whole number >= 0 (0 = one per core)`),
        "E_USAGE",
      );
    }
    const ortOptions: Record<string, unknown> = {
      executionProviders: executionProviders(provider),
      graphOptimizationLevel: options.graphOptimizationLevel ?? "all",
      logSeverityLevel: options.logSeverityLevel ?? 4,
    };
    if (t !== undefined) ortOptions.intraOpNumThreads = t;
    if (options.cpuMemArena === false) ortOptions.enableCpuMemArena = false;
    if (options.prepacking === false) {
      ortOptions.extra = { session: { disable_prepacking: "1" } };
    }
    if (options.optimizedModelFilePath) {
      ortOptions.optimizedModelFilePath = options.optimizedModelFilePath;
    }
    const session = new OrtSession(modelPath, provider);
    session.#threads = t;
    const ranges = options.pageOut;
    let timer: ReturnType<typeof setInterval> | undefined;
    const pageOut = () => {
      try {
        // Unsupported here: stop asking.
        if (ranges && pageOutMappedFiles(ranges) === undefined) clearInterval(timer);
      } catch {
        clearInterval(timer);
      }
    };
    if (ranges) timer = setInterval(pageOut, 25);
    try {
      session.#info = await session.#call("create", {
        path: modelPath,
        options: ortOptions,
      }) as Info;
      clearInterval(timer);
      pageOut();
    } catch (e) {
      clearInterval(timer);
      session.#worker.terminate();
      session.#closed = "creation failed";
      const err = e as Error;
      if (provider !== "cpu") {
        throw withCode(
          new Error(`provider ${provider} failed to open ${modelPath}: ${err.message}`, {
            cause: err,
          }),
          "E_PROVIDER",
        );
      }
      throw err;
    }
    return session;
  }

  /** The execution provider this session runs on. */
  get provider(): Provider {
    return this.#provider;
  }

  /** The intra-op thread count the session was created with (undefined: onnxruntime's default). */
  get intraOpThreads(): number | undefined {
    return this.#threads;
  }

  /** Graph input names, in graph order. */
  get inputNames(): readonly string[] {
    return this.#info.inputNames;
  }

  /** Graph output names, in graph order. */
  get outputNames(): readonly string[] {
    return this.#info.outputNames;
  }

  /** Element type and shape of each input. */
  get inputMetadata(): readonly ValueMetadata[] {
    return this.#info.inputMetadata;
  }

  /** Element type and shape of each output. */
  get outputMetadata(): readonly ValueMetadata[] {
    return this.#info.outputMetadata;
  }

  /** True after {@link release} (or a worker crash). */
  get released(): boolean {
    return this.#closed !== undefined;
  }

  /**
   * Runs the graph. `outputNames` limits what is computed and returned (default: all outputs).
   * Feed buffers are transferred to the worker unless `options.copyInputs`.
   */
  async run(
    feeds: Record<string, WireTensor>,
    outputNames?: readonly string[],
    options: RunOptions = {},
  ): Promise<Record<string, WireTensor>> {
    if (this.#closed) {
      throw withCode(
        new Error(`this session (${this.#path}) is ${this.#closed}; create a new OrtSession`),
        "E_USAGE",
      );
    }
    const known = new Set(this.#info.inputNames);
    for (const [name, t] of Object.entries(feeds)) {
      if (!known.has(name)) {
        throw withCode(
          new TypeError(
            `feed "${name}" is not an input of the graph; inputs are ${[...known].join(", ")}`,
          ),
          "E_USAGE",
        );
      }
      if (!isWireTensor(t)) {
        throw withCode(
          new TypeError(
            `feed "${name}" is not a { dtype, dims, data } tensor; build it with tensor()`,
          ),
          "E_USAGE",
        );
      }
    }
    const missing = this.#info.inputNames.filter((n) =>
      !(n in feeds) && !(options.kv && n.startsWith("past_key_values."))
    );
    if (missing.length > 0) {
      throw withCode(
        new TypeError(`feeds lack graph inputs ${missing.join(", ")}; pass a tensor for each`),
        "E_USAGE",
      );
    }
    if (outputNames) {
      const outs = new Set(this.#info.outputNames);
      const bad = outputNames.filter((n) => !outs.has(n));
      if (bad.length > 0) {
        throw withCode(
          new TypeError(
            `outputNames has ${bad.join(", ")}, not outputs of the graph; outputs are ${
              [...outs].join(", ")
            }`,
          ),
          "E_USAGE",
        );
      }
    }
    let sent = feeds;
    if (options.copyInputs) {
      sent = {};
      for (const [n, t] of Object.entries(feeds)) {
        sent[n] = { ...t, data: t.data.slice() } as WireTensor;
      }
    }
    const transfer = transferList(Object.values(sent));
    return await this.#call("run", {
      feeds: sent,
      outputNames: outputNames ? [...outputNames] : undefined,
      kv: options.kv,
    }, transfer) as Record<string, WireTensor>;
  }

  /**
   * Maintains resident KV caches on the worker (size, select rows, release) and saved prefixes
   * (save a row's first positions under a key, restore them into a row, drop a key). `save`
   * resolves to the bytes the prefix holds.
   */
  async kv(action: KvAction): Promise<unknown> {
    if (this.#closed) {
      throw withCode(
        new Error(`this session (${this.#path}) is ${this.#closed}; create a new OrtSession`),
        "E_USAGE",
      );
    }
    return await this.#call("kv", { kvAction: action });
  }

  /** Frees the session and stops its worker. Later runs reject; calling twice is harmless. */
  async release(): Promise<void> {
    if (this.#closed) return;
    this.#closed = "released";
    try {
      await this.#call("release", {});
    } finally {
      this.#worker.terminate();
      this.#fail(new Error(`this session (${this.#path}) was released`));
    }
  }

  #call(op: string, body: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, op, ...body }, transfer);
    });
  }

  #onMessage(
    msg: { id: number; ok: boolean; value?: unknown; error?: { name: string; message: string } },
  ) {
    const p = this.#pending.get(msg.id);
    if (!p) return;
    this.#pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.value);
    else {
      const e = new Error(msg.error?.message ?? "unknown onnxruntime error");
      e.name = msg.error?.name ?? "Error";
      p.reject(e);
    }
  }

  #fail(error: Error) {
    this.#closed ??= "crashed";
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }
}
