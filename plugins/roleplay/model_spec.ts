/**
 * The roleplay commands take the host's `<model>` strings (core/services/model_ref.ts); this module
 * adds the short model name the dialogue output layout uses.
 *
 * @module
 */

import { basename, extname } from "node:path";
import { parseModelRef as parseModelSpec } from "../../core/services/model_ref.ts";

/**
 * A short, file-name-safe name for a model spec, used as the `<inquirer>` folder of the dialogue
 * layout: the model's last path segment for `openai:` and URL specs, the file name without
 * `.json` for personas, the folder name for local models.
 *
 * @example
 * ```ts
 * import { modelShortName } from "./model_spec.ts";
 * modelShortName("http://h:8000/v1#mistralai/Mixtral-8x7B"); // "Mixtral-8x7B"
 * modelShortName("persona:./personas/ada.json"); // "ada"
 * ```
 */
export function modelShortName(spec: string): string {
  const parsed = parseModelSpec(spec);
  const raw = parsed.kind === "openai" || parsed.kind === "url"
    ? (parsed.model ?? "").split("/").filter(Boolean).pop() ?? parsed.model ?? "model"
    : parsed.kind === "persona"
    ? basename(parsed.file, extname(parsed.file))
    : basename(parsed.path.replace(/[\\/]+$/, "")) || parsed.path;
  return raw.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._]+/, "") || "model";
}
