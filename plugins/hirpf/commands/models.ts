/**
 * The models of the hirpf evaluation commands. Every `<model>` string is a core model reference
 * (`core/services/model_ref.ts`: a local directory, `openai:<name>`, `http(s)://host/v1#<name>`,
 * `persona:<file.json>`), built by the command's model hub, and every model sits behind one
 * SQLite response cache. The agent may
 * additionally carry a trained hirpf adapter (`--adapter <dir>`, local models only): it then runs
 * on an engine built with that adapter, so each request's `identities` switch its experts.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { CachedChatModel } from "../../../core/chat/cached_chat_model.ts";
import type { ChatModel } from "../../../core/contracts/chat_model.ts";
import { withCode } from "../../../core/errors.ts";
import { readDecoderConfig } from "../../../core/model/config.ts";
import type { Engine } from "../../../core/model/engine.ts";
import { resolveModel } from "../../../core/model/model_dir.ts";
import type { ModelHub } from "../../../core/services/model_hub.ts";
import {
  MODEL_REF_SYNTAX as MODEL_SYNTAX,
  parseModelRef,
} from "../../../core/services/model_ref.ts";
import { ModelResolver } from "../../../core/services/model_resolver.ts";
import { IdentityAdapter } from "../adapter.ts";
import { IDENTITY_WEIGHTS_FILE } from "../checkpoint.ts";

export { MODEL_SYNTAX };

/** Options of {@link HirpfModels}. */
export interface HirpfModelsOptions {
  /** The model hub that builds every model (the command context's). */
  hub: ModelHub;
  /** SQLite cache file, `:memory:`, or null for no cache. */
  cachePath: string | null;
  /** onnxruntime threads of local engines with an adapter. */
  threads?: number;
}

/**
 * Builds and caches the models of one command run; {@link HirpfModels.close} releases engines and
 * cache files.
 *
 * @example
 * ```ts ignore
 * import { HirpfModels } from "./models.ts";
 * const models = new HirpfModels({ hub: ctx.models, cachePath: ".cache/hirpf.sqlite" });
 * const agent = await models.agent("./models/tiny", "./runs/his");
 * const judge = await models.get("openai:gpt-4o-mini");
 * await models.close();
 * ```
 */
export class HirpfModels {
  #resolver: ModelResolver;
  #options: HirpfModelsOptions;
  #engines: Engine[] = [];
  #caches: CachedChatModel[] = [];
  #agents = new Map<string, Promise<ChatModel>>();

  constructor(options: HirpfModelsOptions) {
    this.#options = options;
    this.#resolver = new ModelResolver({ hub: options.hub, cachePath: options.cachePath });
  }

  /** A model by `<model>` string (cached responses; local models decode constrained JSON). */
  get(spec: string): Promise<ChatModel> {
    return this.#resolver.get(spec);
  }

  /**
   * The model under test: `spec` as {@link HirpfModels.get}, or — with `adapter` — the local
   * model `spec` on an engine carrying that hirpf checkpoint. The cache id names the model, the
   * adapter directory and its weights' size and time, so retraining invalidates cached replies.
   */
  agent(spec: string, adapter?: string): Promise<ChatModel> {
    if (!adapter) return this.get(spec);
    const key = `${spec}\u0000${adapter}`;
    let m = this.#agents.get(key);
    if (!m) {
      m = this.#loadAgent(spec, adapter);
      this.#agents.set(key, m);
      m.catch(() => this.#agents.delete(key));
    }
    return m;
  }

  async #loadAgent(spec: string, adapterDir: string): Promise<ChatModel> {
    const parsed = parseModelRef(spec);
    if (parsed.kind !== "local") {
      throw withCode(
        new TypeError(
          `--adapter needs a local --model (a directory or hub id), got '${spec}'; serve the ` +
            `adapter through a persona ("adapters": [{"plugin": "hirpf", "path": ...}]) to use it remotely`,
        ),
        "E_USAGE",
      );
    }
    const path = existsSync(parsed.path) ? resolve(parsed.path) : parsed.path;
    const { dir } = await resolveModel(path);
    const config = await readDecoderConfig(dir);
    const adapter = await IdentityAdapter.load(adapterDir, { model: config });
    const engine = await this.#options.hub.openEngine(path, {
      adapters: [adapter],
      threads: this.#options.threads,
    });
    this.#engines.push(engine);
    const st = await Deno.stat(join(adapterDir, IDENTITY_WEIGHTS_FILE));
    const id = `hirpf:${path}+${resolve(adapterDir)}@${st.size}:${st.mtime?.getTime() ?? 0}`;
    const local = await this.#options.hub.localChatModel(engine, id);
    if (this.#options.cachePath === null) return local;
    const cached = new CachedChatModel(local, { path: this.#options.cachePath });
    this.#caches.push(cached);
    return cached;
  }

  /** Cache hits and misses over every model built so far. */
  stats(): { hits: number; misses: number } {
    const own = this.#caches.reduce(
      (a, c) => ({ hits: a.hits + c.stats.hits, misses: a.misses + c.stats.misses }),
      { hits: 0, misses: 0 },
    );
    const r = this.#resolver.stats();
    return { hits: own.hits + r.hits, misses: own.misses + r.misses };
  }

  /** Closes caches and engines loaded here. */
  async close(): Promise<void> {
    this.#resolver.close();
    for (const c of this.#caches) c.close();
    for (const e of this.#engines) await e.close();
  }
}
