/**
 * HIS's published benchmark files, read as released (sunlibo2390/HIS `benchmark/`):
 * `profession_scale.json` (an array of `{question, profession}`, 20 first-person competence
 * statements per profession) and `open_situational_test.json` (an object keyed by dimension —
 * `Openness` … `Neuroticism`, then the professions — of `{Scenario, NPC_Setting, NPC_prompt,
 * Interaction}`). Errors name the file, the record (index from 0, or the key) and the field.
 *
 * @module
 */

import { withCode } from "../../../core/errors.ts";
import { parseJsonText } from "../../../core/train/chat_data.ts";
import type { ProfessionItem, SituationalTest } from "./items.ts";

/** The released factor names and this plugin's codes (NEU, not EMS: the scenarios probe neuroticism). */
export const HIS_FACTOR_CODES: Readonly<Record<string, string>> = {
  Openness: "OPE",
  Conscientiousness: "CON",
  Extraversion: "EXT",
  Agreeableness: "AGR",
  Neuroticism: "NEU",
};

function dataError(message: string): Error {
  return withCode(new TypeError(message), "E_DATA");
}

async function readJson(path: string, flag: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw dataError(`${flag} ${path} cannot be read (${(e as Error).message}); check the path`);
  }
  return parseJsonText(text, path, flag);
}

const text = (v: unknown) => typeof v === "string" && v.trim() !== "";

/**
 * Parses the released profession scale; ids are `<Profession><n>` (n from 1 per profession).
 * Professions outside `professions` are an error naming them.
 *
 * @example
 * ```ts
 * import { parseProfessionScale } from "./his_benchmark.ts";
 * const items = parseProfessionScale([{ question: "I can read an X-ray.", profession: "Doctor" }]);
 * console.log(items[0]); // { id: "Doctor1", profession: "Doctor", statement: "I can read an X-ray." }
 * ```
 */
export function parseProfessionScale(
  json: unknown,
  path = "profession scale",
  professions?: readonly string[],
): ProfessionItem[] {
  if (!Array.isArray(json)) {
    throw dataError(`${path}:1: expected a JSON array of {question, profession} items`);
  }
  const counts = new Map<string, number>();
  return json.map((r, i) => {
    const rec = (r ?? {}) as Record<string, unknown>;
    for (const field of ["question", "profession"]) {
      if (!text(rec[field])) {
        throw dataError(
          `${path}: record ${i}: ${field}: is ${
            JSON.stringify(rec[field])
          }; each item is {"question": "I …", "profession": "Doctor"}`,
        );
      }
    }
    const profession = String(rec.profession);
    if (professions && !professions.includes(profession)) {
      throw dataError(
        `${path}: record ${i}: profession: "${profession}" is not one of the plugin's ` +
          `professions (${professions.join(", ")}); add it to the plugin's professions option`,
      );
    }
    const n = (counts.get(profession) ?? 0) + 1;
    counts.set(profession, n);
    return { id: `${profession}${n}`, profession, statement: String(rec.question).trim() };
  });
}

/**
 * Parses the released open situational tests: factor names become codes (`Openness` → `OPE`,
 * `Neuroticism` → `NEU`), profession keys stay as they are.
 *
 * @example
 * ```ts
 * import { parseSituationalTests } from "./his_benchmark.ts";
 * const [t] = parseSituationalTests({ Openness: { Scenario: "S", NPC_Setting: "N",
 *   NPC_prompt: "P", Interaction: "I" } });
 * console.log(t.dimension, t.npc_prompt); // "OPE" "P"
 * ```
 */
export function parseSituationalTests(
  json: unknown,
  path = "situational tests",
  professions?: readonly string[],
): SituationalTest[] {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw dataError(
      `${path}:1: expected an object keyed by dimension (Openness, …, Doctor) of ` +
        `{Scenario, NPC_Setting, NPC_prompt, Interaction}`,
    );
  }
  return Object.entries(json as Record<string, unknown>).map(([key, v], i) => {
    const rec = (v ?? {}) as Record<string, unknown>;
    for (const field of ["Scenario", "NPC_Setting", "NPC_prompt", "Interaction"]) {
      if (!text(rec[field])) {
        throw dataError(
          `${path}: record ${i} ("${key}"): ${field}: is ${JSON.stringify(rec[field])}; each ` +
            `scenario has a non-empty Scenario, NPC_Setting, NPC_prompt and Interaction`,
        );
      }
    }
    const dimension = HIS_FACTOR_CODES[key] ?? key;
    if (!HIS_FACTOR_CODES[key] && professions && !professions.includes(key)) {
      throw dataError(
        `${path}: record ${i} ("${key}"): the key is neither a Big-Five factor (${
          Object.keys(HIS_FACTOR_CODES).join(", ")
        }) nor one of the plugin's professions (${professions.join(", ")})`,
      );
    }
    return {
      dimension,
      scenario: String(rec.Scenario),
      npc_setting: String(rec.NPC_Setting),
      npc_prompt: String(rec.NPC_prompt),
      interaction: String(rec.Interaction),
    };
  });
}

/** Reads `--scale <profession_scale.json>`. */
export async function loadProfessionScale(
  path: string,
  professions?: readonly string[],
): Promise<ProfessionItem[]> {
  return parseProfessionScale(await readJson(path, "--scale"), path, professions);
}

/** Reads `--scenarios <open_situational_test.json>`. */
export async function loadSituationalTests(
  path: string,
  professions?: readonly string[],
): Promise<SituationalTest[]> {
  return parseSituationalTests(await readJson(path, "--scenarios"), path, professions);
}
