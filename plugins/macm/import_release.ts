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
 * - The Jungian function stack is not a field of the release, but each profile's 20 `Traits`
 *   sentences are drawn from `Attributes/traits.txt`, where every sentence sits under its
 *   function (`Ne`, `Ni`, … `Fi`); a profile draws 4, 3, 2, 1 sentences from its four strongest
 *   functions and 1, 2, 3, 4 negated ones from its four weakest (true of all 11 released
 *   profiles), mostly in stack order. The import writes the stack this implies as
 *   `Function_stack` (a derivation, not a released field); a profile whose sentences do not fit
 *   gets none, and the import says why.
 *
 * @module
 */

import { join } from "node:path";
import { withCode } from "../../core/errors.ts";
import { parseJsonText } from "../../core/train/chat_data.ts";
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
  return parseJsonText(text, path);
}

async function isDir(path: string): Promise<boolean> {
  return await Deno.stat(path).then((s) => s.isDirectory, () => false);
}

async function isFile(path: string): Promise<boolean> {
  return await Deno.stat(path).then((s) => s.isFile, () => false);
}

const FUNCTIONS = ["Ne", "Ni", "Se", "Si", "Te", "Ti", "Fe", "Fi"] as const;

/**
 * Sentence → Jungian function from `Attributes/traits.txt` (a function label line, then lines of
 * sentences belonging to it).
 *
 * @example
 * ```ts
 * import { parseTraitPool } from "./import_release.ts";
 * parseTraitPool("Ne\nI like ideas. I wonder.\nTi\nI reason.").get("I wonder."); // "Ne"
 * ```
 */
export function parseTraitPool(text: string): Map<string, string> {
  const pool = new Map<string, string>();
  let current: string | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if ((FUNCTIONS as readonly string[]).includes(line)) {
      current = line;
      continue;
    }
    if (!current || line === "") continue;
    for (const sentence of line.split(/(?<=[.!?])\s+/)) pool.set(sentence.trim(), current);
  }
  return pool;
}

/**
 * The function stack a profile's `Traits` imply (the functions ranked by their sentence counts
 * 4, 3, 2, 1 | 1, 2, 3, 4 and, within a count, by position), or the reason none can be given.
 *
 * @example
 * ```ts
 * import { functionStackOf, parseTraitPool } from "./import_release.ts";
 * const pool = parseTraitPool("Ne\nA.\nTi\nB.");
 * functionStackOf("- A. - B.", pool); // { reason: "…" } (only 2 of the 8 functions)
 * ```
 */
export function functionStackOf(
  traits: string,
  pool: ReadonlyMap<string, string>,
): { stack: string[]; approximate: string[] } | { reason: string } {
  const sentences = traits.split(/(?:^|\s)- /).map((s) => s.trim()).filter((s) => s !== "");
  const found: string[] = [];
  const approximate: string[] = [];
  for (const s of sentences) {
    let fn = pool.get(s);
    if (!fn) {
      // Released profile 003 lost a sentence's first word ("hunches are right …" for "My
      // hunches are right …"): a unique pool sentence ending with the trait is taken, and noted.
      const ends = [...pool].filter(([k]) => k.endsWith(` ${s}`));
      if (ends.length === 1) {
        fn = ends[0][1];
        approximate.push(`"${s.slice(0, 50)}" read as "${ends[0][0].slice(0, 60)}"`);
      }
    }
    if (!fn) return { reason: `trait "${s.slice(0, 60)}" is not in Attributes/traits.txt` };
    found.push(fn);
  }
  // Sentences per function, strongest first: 4, 3, 2, 1 (positive), then 1, 2, 3, 4 (negated).
  // Of the two functions with the same count, the one whose sentences come first is the stronger.
  const count = new Map<string, number>();
  const mean = new Map<string, number>();
  found.forEach((fn, i) => {
    count.set(fn, (count.get(fn) ?? 0) + 1);
    mean.set(fn, (mean.get(fn) ?? 0) + i);
  });
  for (const [fn, n] of count) mean.set(fn, mean.get(fn)! / n);
  const stack: string[] = new Array(8);
  for (const c of [4, 3, 2, 1]) {
    const pair = [...count].filter(([, n]) => n === c).map(([fn]) => fn)
      .sort((a, b) => mean.get(a)! - mean.get(b)!);
    if (pair.length !== 2) {
      return {
        reason: `the sentence counts per function (${
          [...count].map(([f, n]) => `${f} ${n}`).join(", ")
        }) are not 4, 3, 2, 1 twice over`,
      };
    }
    stack[4 - c] = pair[0];
    stack[3 + c] = pair[1];
  }
  return { stack, approximate };
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
  const poolPath = join(characters, "Attributes", "traits.txt");
  const pool = await isFile(poolPath)
    ? parseTraitPool(await Deno.readTextFile(poolPath))
    : undefined;
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
    let stack: string[] | undefined;
    if (pool && typeof profile.Traits === "string") {
      const r = functionStackOf(profile.Traits, pool);
      if ("stack" in r) {
        stack = r.stack;
        for (const a of r.approximate) notes.push(`Function_stack of ID ${id}: trait ${a}`);
      } else notes.push(`no Function_stack for ID ${id}: ${r.reason}`);
    } else if (!pool) missing.push("Function_stack (Attributes/traits.txt is absent)");
    const parsed = parseProfile(
      { ...profile, Name: name, ...(stack ? { Function_stack: stack } : {}) },
      `${profilesPath} ID ${id}`,
    );
    const dir = join(out, characterSlug(name));
    await Deno.mkdir(dir, { recursive: true });
    await writeTextAtomic(join(dir, "profile.json"), JSON.stringify(parsed, null, 2) + "\n");
    parts.push(stack ? "profile (with Function_stack)" : "profile");
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
