/**
 * Model specs on the command line: one string names any ChatModel the roleplay commands can talk
 * to. The syntax is the one the gca and macm commands use:
 *
 * | spec                               | model                                                       |
 * | ---------------------------------- | ----------------------------------------------------------- |
 * | `openai:<name>`                    | OpenAI-compatible API at `OPENAI_BASE_URL` (`OPENAI_API_KEY`) |
 * | `http(s)://host[:port]/v1#<name>`  | the OpenAI-compatible server at that base URL (e.g. `dramatis serve`), model or persona `<name>`; key `OPENAI_API_KEY` when set |
 * | `persona:<file.json>`              | a persona file played on its own `model`, itself a spec of these forms (a relative directory is relative to the file) |
 * | anything else                      | a local model directory (or hub id) on this project's engine |
 *
 * @module
 */

import { existsSync } from "node:fs";
import { basename, extname, resolve } from "node:path";
import type { ChatModel } from "../../core/contracts/chat_model.ts";
import { OpenAIChatModel } from "../../core/chat/openai_chat_model.ts";
import { withRetry } from "../../core/chat/with_retry.ts";
import { withCode } from "../../core/errors.ts";
import {
  baseModelFor,
  type HostModelOptions,
  personaBackend,
} from "../../core/host/model_factory.ts";
import type { PluginRegistry } from "../../core/plugin/registry.ts";
import { PersonaChatModel } from "../../core/persona/persona_chat_model.ts";
import { parsePersona } from "../../core/persona/persona_store.ts";

/** A parsed model spec. */
export type RoleplayModelSpec =
  | { kind: "openai"; model: string }
  | { kind: "url"; baseURL: string; model: string }
  | { kind: "persona"; file: string }
  | { kind: "local"; path: string };

/** What a `<model>` flag accepts, for help texts. */
export const MODEL_SPEC_SYNTAX = "a local model directory (or hub id), openai:<name> " +
  "(OPENAI_BASE_URL / OPENAI_API_KEY), http(s)://host:port/v1#<name> (any OpenAI-compatible " +
  "server, e.g. dramatis serve with a persona <name>) or persona:<file.json>";

/**
 * Parses a model spec string (see the module table). Throws a TypeError (code `E_USAGE`) for an
 * empty spec or name, a URL without `#<name>`, or a bare `.json` path (write `persona:<file>`).
 *
 * @example
 * ```ts
 * import { parseModelSpec } from "./model_spec.ts";
 * parseModelSpec("openai:gpt-4o-mini"); // { kind: "openai", model: "gpt-4o-mini" }
 * parseModelSpec("http://127.0.0.1:8000/v1#ada"); // { kind: "url", baseURL: "http://127.0.0.1:8000/v1", model: "ada" }
 * parseModelSpec("persona:personas/ada.json"); // { kind: "persona", file: "personas/ada.json" }
 * parseModelSpec("models/tiny"); // { kind: "local", path: "models/tiny" }
 * ```
 */
export function parseModelSpec(spec: string): RoleplayModelSpec {
  const s = spec.trim();
  const bad = (why: string) =>
    withCode(new TypeError(`model '${spec}' ${why}; write ${MODEL_SPEC_SYNTAX}`), "E_USAGE");
  if (s === "") throw bad("is empty");
  if (s.startsWith("openai:")) {
    const model = s.slice("openai:".length);
    if (!model) throw bad("names no model after 'openai:'");
    return { kind: "openai", model };
  }
  if (/^https?:\/\//i.test(s)) {
    const hash = s.indexOf("#");
    if (hash < 0 || hash === s.length - 1) throw bad("is a URL without '#<model name>'");
    const baseURL = s.slice(0, hash).replace(/\/+$/, "");
    try {
      new URL(baseURL);
    } catch {
      throw bad("is not a valid URL");
    }
    return { kind: "url", baseURL, model: s.slice(hash + 1) };
  }
  if (s.startsWith("persona:")) {
    const file = s.slice("persona:".length);
    if (!file) throw bad("names no persona file after 'persona:'");
    return { kind: "persona", file };
  }
  if (extname(s).toLowerCase() === ".json") {
    throw bad(`is a .json file; a persona file is written persona:${s}`);
  }
  return { kind: "local", path: s };
}

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
    ? parsed.model.split("/").filter(Boolean).pop() ?? parsed.model
    : parsed.kind === "persona"
    ? basename(parsed.file, extname(parsed.file))
    : basename(parsed.path.replace(/[\\/]+$/, "")) || parsed.path;
  return raw.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._]+/, "") || "model";
}

/** Options of {@link openModelSpec}. */
export interface OpenModelSpecOptions extends HostModelOptions {
  /** Resolves persona `backend` plugins (the host's registry); without it such personas fail. */
  registry?: PluginRegistry;
}

/**
 * Opens the ChatModel a spec names. Local models load once per process (see `baseModelFor`) and
 * are named `local:<absolute path>`; remote models retry transient errors. A persona file's `model` is itself a spec for its base
 * (a local directory, `openai:<model>` or `openai:<model>@<base-url>`); a persona with a plugin
 * `backend` is built by that plugin through the host registry.
 *
 * @example
 * ```ts ignore
 * import { openModelSpec } from "./model_spec.ts";
 * const model = await openModelSpec("http://127.0.0.1:8000/v1#ada");
 * ```
 */
export async function openModelSpec(
  spec: string,
  options: OpenModelSpecOptions = {},
): Promise<ChatModel> {
  const parsed = parseModelSpec(spec);
  switch (parsed.kind) {
    case "openai":
      return withRetry(new OpenAIChatModel({ model: parsed.model }));
    case "url": {
      let apiKey: string | undefined;
      try {
        apiKey = Deno.env.get("OPENAI_API_KEY") || undefined;
      } catch { /* no env permission: no key */ }
      return withRetry(
        new OpenAIChatModel({ baseURL: parsed.baseURL, model: parsed.model, apiKey }),
      );
    }
    case "persona": {
      let raw: unknown;
      try {
        raw = JSON.parse(await Deno.readTextFile(parsed.file));
      } catch (error) {
        throw withCode(
          new TypeError(
            `model '${spec}': the persona file cannot be read as JSON ` +
              `(${(error as Error).message}); pass an existing persona .json file`,
          ),
          "E_CONFIG",
        );
      }
      const persona = parsePersona(raw, parsed.file);
      let inner: RoleplayModelSpec;
      try {
        inner = parseModelSpec(persona.model);
      } catch {
        inner = { kind: "persona", file: persona.model };
      }
      if (inner.kind === "persona") {
        throw withCode(
          new TypeError(
            `${parsed.file}: field model is '${persona.model}', not a base model; set it to a ` +
              "model directory, openai:<name> or http(s)://host:port/v1#<name>",
          ),
          "E_CONFIG",
        );
      }
      // A relative model directory is relative to the persona file when it exists there.
      let baseSpec = persona.model;
      if (inner.kind === "local") {
        const near = resolve(parsed.file, "..", inner.path);
        if (existsSync(near)) baseSpec = near;
      }
      // A plugin backend (e.g. macm) builds on the host's base model; otherwise the persona's
      // model is itself a spec, so a persona can sit on any endpoint.
      const base = persona.backend
        ? await personaBackend(options, options.registry)({ ...persona, model: baseSpec })
        : await openModelSpec(baseSpec, options);
      return new PersonaChatModel(persona, base);
    }
    case "local": {
      const path = existsSync(parsed.path) ? resolve(parsed.path) : parsed.path;
      return baseModelFor(path, `local:${path}`, options);
    }
  }
}
