/**
 * The one model-reference language of Dramatis, parsed here and nowhere else. Every `--model`
 * flag, persona `model` field, experiment model entry and plugin command takes it:
 *
 * | form                              | model                                                            |
 * | --------------------------------- | ---------------------------------------------------------------- |
 * | a directory or hub id             | a local model on this project's engine                           |
 * | `openai:<name>`                   | an OpenAI-compatible API from `OPENAI_BASE_URL` / `OPENAI_API_KEY` |
 * | `http(s)://host[:port]/v1#<name>` | the OpenAI-compatible server at that base URL (key: `OPENAI_API_KEY` if set); without `#<name>`, the first model it lists |
 * | `dramatis+http(s)://…#<name>`     | the same, declared to accept Dramatis request extensions (identities, steering, …); a plain URL gets them only when it is this project's server |
 * | `persona:<file.json>`             | a persona file played on its own `model` (any form here), with its adapters, steering and plugin backend |
 *
 * @module
 */

import { withCode } from "../errors.ts";

/** A parsed model reference. */
export type ModelRef =
  | { kind: "local"; path: string }
  | { kind: "openai"; model: string }
  | {
    kind: "url";
    baseURL: string;
    model?: string;
    /** The environment variable holding the key (experiment entries); default `OPENAI_API_KEY`. */
    apiKeyEnv?: string;
    /** Declared (`dramatis+http…`) to accept Dramatis request extensions. */
    extensions?: "dramatis";
  }
  | { kind: "persona"; file: string };

/** The help text for a `<model>` flag. */
export const MODEL_REF_SYNTAX =
  "a local model directory or hub id, openai:<name> (OPENAI_BASE_URL / OPENAI_API_KEY), " +
  "http(s)://host:port/v1#<name> (an OpenAI-compatible server; dramatis+http(s)://… when it " +
  "accepts Dramatis request extensions) or persona:<file.json>";

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/**
 * Parses a model reference; a TypeError (`E_USAGE`) names what is wrong and the syntax.
 *
 * @example
 * ```ts
 * import { parseModelRef } from "./model_ref.ts";
 * parseModelRef("http://127.0.0.1:8000/v1#ada"); // { kind: "url", baseURL: "http://127.0.0.1:8000/v1", model: "ada" }
 * parseModelRef("openai:gpt-4o-mini"); // { kind: "openai", model: "gpt-4o-mini" }
 * parseModelRef("HuggingFaceTB/SmolLM2-135M-Instruct"); // { kind: "local", path: "HuggingFaceTB/SmolLM2-135M-Instruct" }
 * ```
 */
export function parseModelRef(ref: string | ModelRef): ModelRef {
  if (typeof ref !== "string") return ref;
  const s = ref.trim();
  const bad = (why: string) =>
    withCode(new TypeError(`model '${ref}' ${why}; write ${MODEL_REF_SYNTAX}`), "E_USAGE");
  if (!s) throw bad("is empty");
  if (s.startsWith("openai:")) {
    const model = s.slice("openai:".length);
    if (!model) throw bad("names no model after 'openai:'");
    return { kind: "openai", model };
  }
  const declared = /^dramatis\+https?:\/\//i.test(s);
  if (declared || /^https?:\/\//i.test(s)) {
    const url = declared ? s.slice("dramatis+".length) : s;
    const hash = url.indexOf("#");
    const baseURL = (hash < 0 ? url : url.slice(0, hash)).replace(/\/+$/, "");
    try {
      new URL(baseURL);
    } catch {
      throw bad("is not a valid URL");
    }
    const model = hash < 0 ? undefined : url.slice(hash + 1) || undefined;
    return {
      kind: "url",
      baseURL,
      ...(model ? { model } : {}),
      ...(declared ? { extensions: "dramatis" as const } : {}),
    };
  }
  if (s.startsWith("persona:")) {
    const file = s.slice("persona:".length);
    if (!file) throw bad("names no persona file after 'persona:'");
    return { kind: "persona", file };
  }
  if (/\.json$/i.test(s) && !isDirectory(s)) {
    throw bad(`is a JSON file; a persona is written persona:${s}`);
  }
  return { kind: "local", path: s };
}

/**
 * Writes a reference back in the string form {@link parseModelRef} reads (for ids and logs).
 *
 * @example
 * ```ts
 * import { formatModelRef } from "./model_ref.ts";
 * console.log(formatModelRef({ kind: "url", baseURL: "http://h:1/v1", model: "m" })); // "http://h:1/v1#m"
 * ```
 */
export function formatModelRef(ref: ModelRef): string {
  switch (ref.kind) {
    case "local":
      return ref.path;
    case "openai":
      return `openai:${ref.model}`;
    case "url": {
      const url = ref.model ? `${ref.baseURL}#${ref.model}` : ref.baseURL;
      return ref.extensions ? `dramatis+${url}` : url;
    }
    case "persona":
      return `persona:${ref.file}`;
  }
}
