/**
 * The upstream LLM Roleplay action config (`configs/action_config/dialogue_generator.yaml` of
 * UKPLab/llm-roleplay) read as released, with the `yaml` npm package: goals from
 * `action_config.task.dataset.data.<input_key>`, personas from `task.persona` (its `fixed` list,
 * else `num_personas` draws over `features`), the persona sentence template, `num_turns`, the stop
 * token (`spec_tokens.conv_stop_token`) and the top-level `seed`. `model_inquirer` /
 * `model_responder` are Hydra's mandatory `???` there: `--inquirer` / `--responder` give them.
 *
 * Persona hashes follow the reference implementation: md5 of Python's `str()` of the persona's
 * feature mapping in the config's key order (for `fixed` personas an OmegaConf DictConfig, which
 * prints like a dict), so dialogues carry the same `persona_hash` as the reference runs. Random
 * personas draw with this project's seeded PRNG (not Python's `random`), so their choices differ
 * from a reference run; each draw's hash is still computed the reference's way.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { withCode } from "../../core/errors.ts";
import { Prng } from "../../core/util/prng.ts";
import type { Goal } from "./goals.ts";
import { type PersonaFeatures, pythonDictRepr, type RoleplayPersona } from "./persona.ts";

/** What a released action config provides. */
export interface UpstreamRoleplayConfig {
  path: string;
  goals: Goal[];
  personas: RoleplayPersona[];
  /** `fixed` (the config's list) or `random` (`num_personas` draws). */
  personaMode: "fixed" | "random";
  numTurns?: number;
  stopToken?: string;
  seed?: number;
}

function configError(path: string, field: string, message: string): Error {
  return withCode(new TypeError(`${path}: ${field}: ${message}`), "E_CONFIG");
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * A persona from a feature mapping, the reference's way: each `<KEY>` placeholder (upper-cased
 * key) of the template replaced, and the hash = md5 of Python's `str()` of the mapping in its
 * own key order.
 *
 * @example
 * ```ts
 * import { configPersona } from "./upstream_config.ts";
 * const p = configPersona({ age: "a 25 to 34", race: "White" }, "<AGE>-year-old <RACE> person");
 * console.log(p.persona); // "a 25 to 34-year-old White person"
 * ```
 */
export function configPersona(features: Record<string, string>, template: string): RoleplayPersona {
  let persona = template;
  for (const [name, value] of Object.entries(features)) {
    persona = persona.replaceAll(`<${name.toUpperCase()}>`, value);
  }
  const persona_hash = createHash("md5").update(pythonDictRepr(features)).digest("hex");
  return { persona, persona_hash, features: { ...features } as PersonaFeatures };
}

/**
 * Reads a parsed action config (the YAML's object).
 *
 * @example
 * ```ts
 * import { parseUpstreamConfig } from "./upstream_config.ts";
 * const c = parseUpstreamConfig({ seed: 5, action_config: { task: { num_turns: 3,
 *   dataset: { input_key: "instruction", data: { instruction: ["You want tea."] } },
 *   persona: { prompt: "<AGE> person", fixed: [{ person: { age: "a 25 to 34" } }] } } } }, "c.yaml");
 * console.log(c.goals[0].id, c.personas[0].persona, c.numTurns); // "sample-0" "a 25 to 34 person" 3
 * ```
 */
export function parseUpstreamConfig(doc: unknown, path = "config"): UpstreamRoleplayConfig {
  if (!isRecord(doc) || !isRecord(doc.action_config) || !isRecord(doc.action_config.task)) {
    throw configError(
      path,
      "action_config.task",
      "missing; pass an LLM Roleplay action config such as configs/action_config/dialogue_generator.yaml",
    );
  }
  const task = doc.action_config.task;
  const dataset = isRecord(task.dataset) ? task.dataset : undefined;
  const inputKey = typeof dataset?.input_key === "string" ? dataset.input_key : "instruction";
  const data = isRecord(dataset?.data) ? dataset.data[inputKey] : undefined;
  if (!Array.isArray(data) || data.length === 0) {
    throw configError(
      path,
      `action_config.task.dataset.data.${inputKey}`,
      `is ${JSON.stringify(data)?.slice(0, 60)}; expected a list of goal instructions`,
    );
  }
  const goals = data.map((instruction, i): Goal => {
    if (typeof instruction !== "string" || instruction.trim() === "") {
      throw configError(
        path,
        `action_config.task.dataset.data.${inputKey}[${i}]`,
        `is ${JSON.stringify(instruction)}; each goal is a non-empty string`,
      );
    }
    // The reference strips each line of an instruction; the released ones are single lines.
    return {
      id: `sample-${i}`,
      kind: "upstream",
      instruction: instruction.split("\n").map((l) => l.trim()).join("\n"),
    };
  });
  const personaCfg = isRecord(task.persona) ? task.persona : undefined;
  if (!personaCfg || typeof personaCfg.prompt !== "string") {
    throw configError(path, "action_config.task.persona.prompt", "missing; the persona template");
  }
  const template = personaCfg.prompt;
  const asFeatures = (v: unknown, field: string): Record<string, string> => {
    if (!isRecord(v) || Object.values(v).some((x) => typeof x !== "string")) {
      throw configError(path, field, `is ${JSON.stringify(v)}; expected feature: "value" pairs`);
    }
    return v as Record<string, string>;
  };
  let personas: RoleplayPersona[];
  let personaMode: "fixed" | "random";
  if (Array.isArray(personaCfg.fixed)) {
    personaMode = "fixed";
    personas = personaCfg.fixed.map((entry, i) =>
      configPersona(
        asFeatures(
          isRecord(entry) ? entry.person : undefined,
          `action_config.task.persona.fixed[${i}].person`,
        ),
        template,
      )
    );
  } else {
    personaMode = "random";
    const features = personaCfg.features;
    const n = personaCfg.num_personas;
    if (!isRecord(features) || !Number.isInteger(n) || (n as number) < 1) {
      throw configError(
        path,
        "action_config.task.persona",
        "needs a fixed list, or features with num_personas >= 1",
      );
    }
    const rng = new Prng(typeof doc.seed === "number" ? doc.seed : 5);
    personas = Array.from({ length: n as number }, () => {
      const chosen: Record<string, string> = {};
      for (const [name, values] of Object.entries(features)) {
        if (!Array.isArray(values) || values.length === 0) {
          throw configError(path, `action_config.task.persona.features.${name}`, "is empty");
        }
        chosen[name] = String(rng.choice(values));
      }
      return configPersona(chosen, template);
    });
  }
  const spec = isRecord(task.spec_tokens) ? task.spec_tokens : {};
  return {
    path,
    goals,
    personas,
    personaMode,
    ...(Number.isInteger(task.num_turns) ? { numTurns: task.num_turns as number } : {}),
    ...(typeof spec.conv_stop_token === "string" ? { stopToken: spec.conv_stop_token } : {}),
    ...(Number.isInteger(doc.seed) ? { seed: doc.seed as number } : {}),
  };
}

/**
 * Reads an action config YAML file.
 *
 * @example
 * ```ts ignore
 * import { loadUpstreamConfig } from "./upstream_config.ts";
 * const c = await loadUpstreamConfig("../shared/upstream/llm_roleplay/configs/action_config/dialogue_generator.yaml");
 * console.log(c.goals.length, c.personas.length); // 10 20
 * ```
 */
export async function loadUpstreamConfig(path: string): Promise<UpstreamRoleplayConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw withCode(
      new TypeError(`--config ${path} cannot be read (${(e as Error).message}); check the path`),
      "E_CONFIG",
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw withCode(
      new SyntaxError(`${path}: not valid YAML (${(e as Error).message.split("\n")[0]})`),
      "E_CONFIG",
    );
  }
  return parseUpstreamConfig(doc, path);
}
