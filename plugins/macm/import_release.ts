/**
 * Imports the Human Simulacra release (`Characters/` of hasakiXie123/Human-Simulacra) into this
 * plugin's character folders. The release spreads a character over five places: its profile in
 * `character_profiles.json`, its biography in `character_introductions.json` (both arrays over
 * every character, matched by `ID`), and `Stories/<Name>/`, `Questions/<Name>/`,
 * `Memories/<Name>/` folders (released for four of the eleven characters). One folder is written
 * per character the profiles list; what is missing and where the sources disagree is reported,
 * never silently fixed:
 *
 * - ID 000 is "Tianqi Zhang" in the profiles and "Marsh Zhaleh" in the introductions (whose
 *   biography is about Marsh Zhaleh): the introduction's name wins, so profile and biography
 *   agree, and the disagreement is reported.
 * - Cloze items carry `"options": [""]`; the questionnaire reader drops empty options.
 * - `Open-Ended.json` items are human-scored: copied (three characters' are blank placeholders,
 *   reported), never scored.
 *
 * @module
 */

import { join } from "node:path";
import { withCode } from "../../core/errors.ts";
import { jsonErrorLine } from "../../core/train/chat_data.ts";
import { writeFileAtomic as writeTextAtomic } from "../../core/util/atomic.ts";
import { parseProfile } from "./profile.ts";
import { parseQuestionnaire } from "./questionnaire.ts";

/** What the import of one character found and wrote. */
export interface ImportedCharacter {
  id: string;
  name: string;
  dir: string;
  /** Parts written: profile, biography, story, questions/<type>, memory. */
  parts: string[];
  /** Parts the release lacks for this character. */
  missing: string[];
  /** Where the release's sources disagree. */
  notes: string[];
}

/**
 * Reads a JSON file; an unreadable or malformed one is an `E_DATA` error naming the file and the
 * line where parsing stopped.
 *
 * @example
 * ```ts ignore
 * import { readJsonFile } from "./import_release.ts";
 * const profile = await readJsonFile("characters/ada/profile.json");
 * ```
 */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw withCode(
      new TypeError(
        `${path} cannot be read (${(e as Error).message}); pass the released Characters/ folder`,
      ),
      "E_DATA",
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw withCode(
      new SyntaxError(
        `${path}:${jsonErrorLine(text, e as Error)}: not valid JSON (${
          (e as Error).message
        }); a truncated copy is the usual cause: fetch the file again`,
      ),
      "E_DATA",
    );
  }
}

async function isDir(path: string): Promise<boolean> {
  return await Deno.stat(path).then((s) => s.isDirectory, () => false);
}

async function isFile(path: string): Promise<boolean> {
  return await Deno.stat(path).then((s) => s.isFile, () => false);
}

/** `Mary Jones` → `mary_jones`. */
export function characterSlug(name: string): string {
  return name.normalize("NFKD").replace(/[^A-Za-z0-9]+/g, "_").replace(/^_|_$/g, "")
    .toLowerCase();
}

function recordsById(value: unknown, path: string): Map<string, Record<string, unknown>> {
  if (!Array.isArray(value)) {
    throw withCode(
      new TypeError(`${path}:1: expected a JSON array of characters, got ${typeof value}`),
      "E_DATA",
    );
  }
  const out = new Map<string, Record<string, unknown>>();
  value.forEach((r, i) => {
    const id = (r as Record<string, unknown>)?.ID;
    if (typeof id !== "string" || id === "") {
      throw withCode(
        new TypeError(`${path}: record ${i}: ID: is ${JSON.stringify(id)}; expected "001"-style`),
        "E_DATA",
      );
    }
    out.set(id, r as Record<string, unknown>);
  });
  return out;
}

/**
 * Imports every character of a released `Characters/` folder into `<out>/<slug>/`.
 *
 * @example
 * ```ts ignore
 * import { importHumanSimulacra } from "./import_release.ts";
 * const r = await importHumanSimulacra("../shared/upstream/human_simulacra/Characters", "/tmp/chars");
 * console.log(r.map((c) => `${c.name}: ${c.missing.join(", ") || "complete"}`));
 * ```
 */
export async function importHumanSimulacra(
  characters: string,
  out: string,
): Promise<ImportedCharacter[]> {
  const profilesPath = join(characters, "character_profiles.json");
  const introsPath = join(characters, "character_introductions.json");
  const profiles = recordsById(await readJsonFile(profilesPath), profilesPath);
  const intros = recordsById(await readJsonFile(introsPath), introsPath);
  // Validate everything that can be validated before writing anything.
  const plans: { id: string; profile: Record<string, unknown>; intro?: Record<string, unknown> }[] =
    [];
  for (const [id, profile] of profiles) plans.push({ id, profile, intro: intros.get(id) });
  const result: ImportedCharacter[] = [];
  for (const { id, profile, intro } of plans) {
    const notes: string[] = [];
    const missing: string[] = [];
    const parts: string[] = [];
    let name = String(profile.Name ?? "");
    if (intro && typeof intro.Name === "string" && intro.Name !== name) {
      notes.push(
        `ID ${id} is "${name}" in character_profiles.json and "${intro.Name}" in ` +
          `character_introductions.json; the introduction's name is used (its biography is ` +
          `about ${intro.Name})`,
      );
      name = intro.Name;
    }
    const parsed = parseProfile({ ...profile, Name: name }, `${profilesPath} ID ${id}`);
    const dir = join(out, characterSlug(name));
    await Deno.mkdir(dir, { recursive: true });
    await writeTextAtomic(join(dir, "profile.json"), JSON.stringify(parsed, null, 2) + "\n");
    parts.push("profile");
    const biography = typeof intro?.Content === "string" ? intro.Content.trim() : "";
    if (biography) {
      await writeTextAtomic(join(dir, "biography.txt"), biography + "\n");
      parts.push("biography");
    } else {
      missing.push(`biography (no Content for ID ${id} in character_introductions.json)`);
      await writeTextAtomic(join(dir, "biography.txt"), "\n");
    }
    const storyFile = join(characters, "Stories", name, `${name}.txt`);
    if (await isFile(storyFile)) {
      await writeTextAtomic(join(dir, "story.txt"), await Deno.readTextFile(storyFile));
      parts.push("story");
    } else missing.push(`story (Stories/${name}/${name}.txt)`);
    const qDir = join(characters, "Questions", name);
    if (await isDir(qDir)) {
      await Deno.mkdir(join(dir, "questions"), { recursive: true });
      for (const type of ["Cloze", "Single_choice", "Multiple_choices", "Open-Ended"]) {
        const f = join(qDir, `${type}.json`);
        if (!(await isFile(f))) {
          missing.push(`questions/${type} (Questions/${name}/${type}.json)`);
          continue;
        }
        const items = await readJsonFile(f);
        if (type === "Open-Ended") {
          // Human-scored and never read by the questionnaire; three characters ship blank items.
          const list = Array.isArray(items) ? items : [];
          const blank = list.filter((q) => !(q as { question?: string })?.question).length;
          if (blank) {
            notes.push(`${f}: ${blank} of ${list.length} Open-Ended item(s) are blank as released`);
          }
        } else parseQuestionnaire(items, f);
        const blanks = Array.isArray(items)
          ? items.filter((q) =>
            Array.isArray((q as { options?: unknown[] }).options) &&
            (q as { options: unknown[] }).options.includes("")
          ).length
          : 0;
        if (blanks) notes.push(`${f}: ${blanks} item(s) with "options": [""] read as no options`);
        await writeTextAtomic(
          join(dir, "questions", `${type}.json`),
          JSON.stringify(items, null, 2) + "\n",
        );
        parts.push(`questions/${type}`);
      }
    } else missing.push(`questions (Questions/${name}/)`);
    const mDir = join(characters, "Memories", name);
    if (await isFile(join(mDir, "index.json")) && await isFile(join(mDir, "long_memory.json"))) {
      await Deno.mkdir(join(dir, "memory"), { recursive: true });
      for (const f of ["index.json", "long_memory.json"]) {
        const value = await readJsonFile(join(mDir, f));
        await writeTextAtomic(join(dir, "memory", f), JSON.stringify(value, null, 2) + "\n");
      }
      parts.push("memory");
    } else missing.push(`memory (Memories/${name}/index.json + long_memory.json)`);
    result.push({ id, name, dir, parts, missing, notes });
  }
  for (const id of intros.keys()) {
    if (!profiles.has(id)) {
      result.push({
        id,
        name: String(intros.get(id)!.Name),
        dir: "",
        parts: [],
        missing: [`profile (ID ${id} is in character_introductions.json only; not imported)`],
        notes: [],
      });
    }
  }
  return result;
}
