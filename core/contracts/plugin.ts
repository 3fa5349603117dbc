/**
 * The Plugin contract. A plugin is a plain object made by a named factory (`hirpf()`): metadata,
 * a zod options schema, the roles it provides, and optional CLI commands and HTTP routes.
 * Built-ins are listed once in `plugins/mod.ts`; third-party plugins are files whose default
 * export is a Plugin, loaded with `--plugin ./path/to/plugin.ts`.
 *
 * @module
 */

import type { z } from "zod";
import type { Adapter } from "./adapter.ts";
import type { ChatModel } from "./chat_model.ts";
import type { Persona } from "./persona.ts";
import type { RequestExtension } from "./request_extension.ts";
import type { Judge } from "./judge.ts";
import type { Simulator } from "./simulator.ts";
import type { Steerer } from "./steerer.ts";
import type { Trainer } from "./trainer.ts";
import type { Engine } from "../model/engine.ts";
import type { ModelHub } from "../services/model_hub.ts";
import type { TrainingDriver } from "../services/training_driver.ts";
import type { VectorSource } from "../steering/vector_source.ts";

/** The five roles a plugin can provide. */
export const ROLES = ["adapter", "trainer", "steerer", "simulator", "judge"] as const;
/** One of the five roles. */
export type Role = typeof ROLES[number];

/** The plugin name rule. */
export const PLUGIN_NAME_RULE: RegExp = /^[a-z][a-z0-9_]*$/;

/** A command-line flag of a plugin or host command. */
export interface FlagSpec {
  type: "string" | "number" | "boolean";
  description: string;
  default?: string | number | boolean;
  required?: boolean;
  /** Allowed values for string flags. */
  choices?: readonly string[];
  /** May be given several times (string flags); the value is then an array. */
  multiple?: boolean;
}

/** Parsed flags and positional arguments. */
export interface ParsedArgs {
  flags: Record<string, string | number | boolean | string[] | undefined>;
  positionals: string[];
}

/** What a command receives besides its arguments. */
export interface CommandContext {
  /** `--json` was given: print one JSON document on stdout and nothing else there. */
  json: boolean;
  /** Human progress goes here (stderr); silent when `--json` is not a TTY concern. */
  log(message: string): void;
  signal: AbortSignal;
  /**
   * The model hub: builds every engine and ChatModel (model references, personas, adapters) with
   * the command's `--provider` / `--threads`; the host closes it after the command.
   */
  models: ModelHub;
}

/**
 * What `create` receives besides its options: the services core hands to plugins.
 */
export interface PluginContext {
  /** The plugin's name. */
  readonly plugin: string;
  /** Builds engines and ChatModels (model references, personas, adapters) with the host's settings. */
  models: ModelHub;
  /** The shared training driver (set-up, eval split, train loop, checkpoints, resume, results). */
  training: TrainingDriver;
  /** Progress lines, tagged with the plugin's name. */
  log(message: string): void;
  /** Aborts long work (Ctrl-C in the CLI). */
  signal: AbortSignal;
}

/** A CLI command (`deno task dramatis <plugin> <command>`). */
export interface PluginCommand {
  name: string;
  description: string;
  /** Positional argument names for the usage line, e.g. `["<file>"]`. */
  positionals?: string[];
  flags?: Record<string, FlagSpec>;
  /** Returns the exit status (0 when omitted). */
  run(args: ParsedArgs, context: CommandContext): Promise<number | void> | number | void;
}

/** An HTTP route mounted at `/plugins/<name><path>`; handlers speak the Fetch API. */
export interface PluginRoute {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  handler(request: Request): Response | Promise<Response>;
}

/**
 * Builds the ChatModel that answers as a persona whose `backend` names this plugin (for example
 * MACM's multi-agent cognition). `base` is the persona's base model as a ChatModel; `options` are
 * the persona's `backend.options`.
 */
export type PersonaBackendFactory = (
  persona: Persona,
  base: ChatModel,
  options: Record<string, unknown>,
) => ChatModel | Promise<ChatModel>;

/** The role instances a plugin provides once its options are known. */
export interface PluginRoles {
  adapters?: Record<string, (config?: Record<string, unknown>) => Adapter | Promise<Adapter>>;
  trainers?: Record<string, Trainer>;
  steerers?: Record<string, (config: Record<string, unknown>) => Steerer | Promise<Steerer>>;
  simulators?: Record<string, Simulator>;
  // deno-lint-ignore no-explicit-any
  judges?: Record<string, Judge<any, any>>;
  /** Persona backends by name; a persona selects one with `backend: {plugin, options}`. */
  backends?: Record<string, PersonaBackendFactory>;
}

/**
 * A Dramatis plugin.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import type { Plugin } from "./plugin.ts";
 * const options = z.object({ threshold: z.number().default(0.5) });
 * export const echo: Plugin<z.infer<typeof options>> = {
 *   name: "echo", version: "0.1.0", description: "does nothing useful", options,
 *   provides: [], create: () => ({}),
 * };
 * ```
 */
export interface Plugin<Options = unknown> {
  /** Equals the plugin's folder name; matches {@link PLUGIN_NAME_RULE}. */
  name: string;
  version: string;
  description: string;
  /** Validated before anything runs; defaults apply for omitted fields. */
  options: z.ZodType<Options>;
  /** The roles `create` returns, declared up front for listings. */
  provides: readonly Role[];
  /** Builds the role instances for validated options, with the services core hands over. */
  create(options: Options, context: PluginContext): PluginRoles | Promise<PluginRoles>;
  commands?: PluginCommand[];
  routes?: PluginRoute[];
  /**
   * The chat-request fields this plugin defines (hirpf: `identities`, answered by its adapter;
   * persona_vectors: `projections`, answered by its {@link wrapLocalModel}). The server accepts
   * them while the plugin is loaded, validated with their schemas.
   */
  // deno-lint-ignore no-explicit-any
  requestExtensions?: readonly RequestExtension<any>[];
  /**
   * Wraps every local ChatModel the model hub builds while this plugin is loaded, to answer a
   * request extension the plugin defines with `appliesTo: "wrapper"` (persona_vectors answers
   * `projections` this way); the wrapper removes the extension before calling `model`.
   */
  wrapLocalModel?(
    model: ChatModel,
    engine: Engine,
    services: { vectors: VectorSource },
  ): ChatModel | Promise<ChatModel>;
}
