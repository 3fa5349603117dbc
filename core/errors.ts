/**
 * Stable error codes and the error classes of Dramatis.
 *
 * Bad input raises the built-in `TypeError`, `RangeError` or `SyntaxError` with a message that
 * states the current value and the fix; {@link withCode} tags such an error with a stable code.
 * Failures inside a plugin raise {@link PluginError}, which records the plugin and the hook.
 *
 * @module
 */

/**
 * One table of stable error codes. Codes never change meaning; new ones are appended.
 *
 * @example
 * ```ts
 * import { ERROR_CODES } from "./errors.ts";
 * console.log(ERROR_CODES.E_PLUGIN_NAME);
 * ```
 */
export const ERROR_CODES = {
  E_USAGE: "a command line argument is missing or malformed",
  E_NOT_AVAILABLE: "the capability has not landed yet in this version",
  E_PLUGIN_LOAD: "a plugin file could not be imported",
  E_PLUGIN_SHAPE: "a plugin object lacks a required field or has one of the wrong type",
  E_PLUGIN_NAME: "a plugin name breaks the rule /^[a-z][a-z0-9_]*$/",
  E_PLUGIN_DUPLICATE: "two plugins share one name",
  E_PLUGIN_OPTIONS: "plugin options fail the plugin's schema",
  E_PLUGIN_UNKNOWN: "no plugin has the requested name",
  E_PLUGIN_HOOK: "a plugin failed inside one of its hooks",
  E_CONFIG: "a configuration file or inline configuration is invalid",
  E_MODEL_DIR: "a model directory or hub id cannot be used",
  E_MODEL_ARCH: "the model architecture is not supported",
  E_WEIGHTS: "a weights file is malformed or does not match the config",
  E_TOKENIZER: "the tokenizer is missing or invalid",
  E_PROVIDER: "an execution provider is not available on this machine",
  E_GRAPH: "an ONNX graph is malformed",
  E_GRAD_RULE: "no gradient rule exists for an op",
  E_DATA: "a dataset record is malformed",
  E_LIMIT: "a request exceeded a configured limit",
  E_BUDGET: "the spend ceiling was reached",
  E_ADDR_IN_USE: "the address or port to listen on is taken by another program",
  E_PATH: "a path names the wrong kind of file, or a file that cannot be written there",
  E_SCHEDULER: "the batch scheduler (sbatch) is missing or refused a job",
} as const;

/** A stable error code: a key of {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** An error carrying a stable code. */
export interface CodedError extends Error {
  code: ErrorCode;
}

/**
 * Tags an error with a stable code and returns it, keeping its class.
 *
 * @example
 * ```ts
 * import { withCode } from "./errors.ts";
 * throw withCode(new RangeError("--seed is -1; pass a whole number >= 0"), "E_USAGE");
 * ```
 */
export function withCode<E extends Error>(error: E, code: ErrorCode): E & CodedError {
  return Object.assign(error, { code });
}

/** Reads the stable code of an error, if it carries one. */
export function errorCode(error: unknown): ErrorCode | undefined {
  if (error instanceof Error && "code" in error && typeof error.code === "string") {
    return error.code in ERROR_CODES ? error.code as ErrorCode : undefined;
  }
  return undefined;
}

/**
 * An error raised by or about a plugin. It records the plugin name and the hook (a role method,
 * a command, a route, or `load` / `options` for the host's own checks).
 *
 * @example
 * ```ts
 * import { PluginError } from "./errors.ts";
 * throw new PluginError("hirpf", "options", "E_PLUGIN_OPTIONS", "rank: -1 is below 1; use r >= 1");
 * ```
 */
export class PluginError extends Error implements CodedError {
  readonly plugin: string;
  readonly hook: string;
  readonly code: ErrorCode;
  /** The message without the `plugin … (hook): ` prefix. */
  readonly reason: string;

  constructor(
    plugin: string,
    hook: string,
    code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`plugin ${plugin} (${hook}): ${message}`, options);
    this.name = "PluginError";
    this.plugin = plugin;
    this.hook = hook;
    this.code = code;
    this.reason = message;
  }
}

/**
 * A command line error: the host prints its message on one line and exits with status 2.
 *
 * @example
 * ```ts
 * import { UsageError } from "./errors.ts";
 * throw new UsageError("--model is required; pass a model directory or hub id");
 * ```
 */
export class UsageError extends Error implements CodedError {
  readonly code: ErrorCode;
  constructor(message: string, code: ErrorCode = "E_USAGE") {
    super(message);
    this.name = "UsageError";
    this.code = code;
  }
}
