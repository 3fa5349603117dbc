/**
 * Resolves what a user passes as `--model`: a local model directory (used as is, offline) or a
 * hub id `owner/name` (downloaded into the cache by {@link downloadModel}).
 *
 * @module
 */

import { join, resolve } from "node:path";
import { withCode } from "../errors.ts";
import { downloadModel, HUB_ID, type HubOptions } from "./hub.ts";

/** A model ready to load from disk. */
export interface ResolvedModel {
  /** Absolute directory holding config.json, tokenizer files and weights. */
  dir: string;
  /** `local` for a directory used as is, `hub` for a downloaded id. */
  source: "local" | "hub";
  /** The hub id, for hub models. */
  id?: string;
  /** The revision, for hub models. */
  revision?: string;
}

/**
 * Checks that a directory looks like a model directory (it has config.json).
 *
 * @example
 * ```ts
 * import { checkModelDir } from "./model_dir.ts";
 * await checkModelDir("./models/tiny");
 * ```
 */
export async function checkModelDir(dir: string): Promise<void> {
  try {
    const s = await Deno.stat(join(dir, "config.json"));
    if (s.isFile) return;
  } catch { /* reported below */ }
  throw withCode(
    new TypeError(
      `${dir} has no config.json, so it is not a Hugging Face model directory; point at the ` +
        `folder that holds config.json, tokenizer.json and the safetensors weights, or create ` +
        `one with \`deno task model new <dir> --preset tiny-llama\``,
    ),
    "E_MODEL_DIR",
  );
}

/**
 * Resolves a local directory or a hub id to a local model directory. An existing directory is
 * used as is and never touches the network; anything else of the form `owner/name` is
 * downloaded (see {@link HubOptions} for the endpoint, token, revision and cache).
 *
 * @example
 * ```ts
 * import { resolveModel } from "./model_dir.ts";
 * const local = await resolveModel("./models/tiny");
 * const hub = await resolveModel("Qwen/Qwen2.5-0.5B-Instruct", { revision: "main" });
 * console.log(local.dir, hub.dir);
 * ```
 */
export async function resolveModel(
  idOrDir: string,
  options: HubOptions = {},
): Promise<ResolvedModel> {
  if (typeof idOrDir !== "string" || idOrDir.trim() === "") {
    throw withCode(
      new TypeError(
        `model is ${JSON.stringify(idOrDir)}; pass a model directory or a hub id owner/name`,
      ),
      "E_MODEL_DIR",
    );
  }
  let stat: Deno.FileInfo | null = null;
  try {
    stat = await Deno.stat(idOrDir);
  } catch { /* not a local path */ }
  if (stat) {
    if (!stat.isDirectory) {
      throw withCode(
        new TypeError(`${idOrDir} is a file; pass the model directory that contains it`),
        "E_MODEL_DIR",
      );
    }
    const dir = resolve(idOrDir);
    await checkModelDir(dir);
    return { dir, source: "local" };
  }
  const looksLikePath = /^(\.|\/|~)/.test(idOrDir) || idOrDir.includes("\\");
  if (looksLikePath || !HUB_ID.test(idOrDir)) {
    throw withCode(
      new TypeError(
        `${idOrDir} is neither an existing directory nor a hub id of the form owner/name; ` +
          `check the path, or create a model with \`deno task model new <dir>\``,
      ),
      "E_MODEL_DIR",
    );
  }
  const revision = options.revision ?? "main";
  const dir = await downloadModel(idOrDir, { ...options, revision });
  await checkModelDir(dir);
  return { dir, source: "hub", id: idOrDir, revision };
}
