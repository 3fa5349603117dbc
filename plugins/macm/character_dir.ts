/**
 * Reads a character folder: `profile.json`, `biography.txt`, `story.txt` (one paragraph per
 * line), `questions/{Cloze,Single_choice,Multiple_choices}.json`, optionally `extra.json` (added
 * attributes, `{"Pet": "a grey cat"}`), and, once built, `memory/{index,long_memory}.json`.
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { withCode } from "../../core/errors.ts";
import { splitParagraphs } from "./biography.ts";
import { loadMemory } from "./memory_build.ts";
import { parseProfile } from "./profile.ts";
import { readJsonFile } from "./import_release.ts";
import { parseQuestionnaire, type QuestionItem } from "./questionnaire.ts";
import type { Character } from "./simulacrum.ts";
import { pathExists } from "../../core/util/fs.ts";

/** A loaded character folder. */
export interface CharacterFolder extends Character {
  story: string[];
  questions: Record<string, QuestionItem[]>;
}

/** The shipped characters' folder. */
export const SHIPPED_CHARACTERS_URL: URL = new URL("./data/characters/", import.meta.url);

/**
 * The folder of a shipped character (default: `hazel_okafor`).
 *
 * @example
 * ```ts
 * import { shippedCharacterDir } from "./character_dir.ts";
 * shippedCharacterDir().endsWith("hazel_okafor"); // true
 * ```
 */
export function shippedCharacterDir(name = "hazel_okafor"): string {
  return fileURLToPath(new URL(`${name}/`, SHIPPED_CHARACTERS_URL)).replace(/[\\/]+$/, "");
}

/**
 * Loads a character folder; files are validated and errors name the file.
 *
 * @example
 * ```ts
 * import { loadCharacterDir, SHIPPED_CHARACTERS_URL } from "./character_dir.ts";
 * const c = await loadCharacterDir(new URL("hazel_okafor/", SHIPPED_CHARACTERS_URL).pathname);
 * console.log(c.profile.Name, c.story.length);
 * ```
 */
export async function loadCharacterDir(dir: string): Promise<CharacterFolder> {
  const read = (f: string) => Deno.readTextFile(join(dir, f));
  const profile = parseProfile(
    await readJsonFile(join(dir, "profile.json")),
    join(dir, "profile.json"),
  );
  const biography = (await read("biography.txt")).trim();
  const story = (await pathExists(join(dir, "story.txt")))
    ? splitParagraphs(await read("story.txt"))
    : [];
  const questions: Record<string, QuestionItem[]> = {};
  for (const type of ["Cloze", "Single_choice", "Multiple_choices"]) {
    const f = join("questions", `${type}.json`);
    if (await pathExists(join(dir, f))) {
      questions[type] = parseQuestionnaire(await readJsonFile(join(dir, f)), join(dir, f));
    }
  }
  let extra: Record<string, string> | undefined;
  if (await pathExists(join(dir, "extra.json"))) {
    const value = await readJsonFile(join(dir, "extra.json"));
    if (
      typeof value !== "object" || value === null || Array.isArray(value) ||
      Object.values(value).some((v) => typeof v !== "string")
    ) {
      throw withCode(
        new TypeError(
          `${join(dir, "extra.json")} is ${JSON.stringify(value).slice(0, 80)}; ` +
            'write an object of strings, e.g. {"Pet": "a grey cat"}',
        ),
        "E_DATA",
      );
    }
    extra = value as Record<string, string>;
  }
  const memDir = join(dir, "memory");
  const memory = (await pathExists(join(memDir, "index.json")))
    ? await loadMemory(memDir)
    : undefined;
  return { profile, biography, story, questions, memory, ...(extra ? { extra } : {}) };
}
