/**
 * A seeded random character-profile generator following the Human Simulacra recipe: gender, a
 * name for it, age 20–55 with a consistent birth date, one occupation, three hobbies from a
 * 50-item pool, one family background, one of nine education levels, three short-term goals, one
 * long-term goal, and a Jungian function stack with its trait sentences. The word lists are this
 * project's own.
 *
 * @module
 */

import { Prng } from "../../core/util/prng.ts";
import { defaultTraitBank, randomStack, type TraitBank, traitsFromStack } from "./jung.ts";
import type { CharacterProfile } from "./profile.ts";

const FIRST: Record<string, readonly string[]> = {
  female: ["Clara", "Nadia", "Ruth", "Ines", "Hazel", "Mei", "Greta", "Lucia", "Amara", "Joan"],
  male: ["Tomas", "Oliver", "Kenji", "Samuel", "Idris", "Felix", "Marco", "Anton", "Hugh", "Ravi"],
  "non-binary": [
    "Alex",
    "Robin",
    "Sasha",
    "Jordan",
    "Quinn",
    "Rowan",
    "Sky",
    "Morgan",
    "Ari",
    "Eden",
  ],
};
const LAST = [
  "Hartley",
  "Okafor",
  "Lindqvist",
  "Moreau",
  "Brennan",
  "Tanaka",
  "Alvarez",
  "Whitlock",
  "Novak",
  "Castellano",
  "Ferris",
  "Osei",
  "Holm",
  "Pereira",
  "Doyle",
  "Kaur",
] as const;

/** One occupation per character. */
export const OCCUPATIONS = [
  "bus driver",
  "nurse",
  "primary school teacher",
  "carpenter",
  "librarian",
  "baker",
  "software tester",
  "postal worker",
  "electrician",
  "pharmacist",
  "forestry worker",
  "chef",
  "bookkeeper",
  "dental hygienist",
  "farmer",
  "shop assistant",
  "plumber",
  "graphic designer",
  "social worker",
  "warehouse clerk",
  "hairdresser",
  "lab technician",
  "journalist",
  "tailor",
] as const;

/** The 50-item hobby pool (three per character). */
export const HOBBIES = [
  "gardening",
  "rock climbing",
  "birdwatching",
  "knitting",
  "chess",
  "baking",
  "cycling",
  "photography",
  "fishing",
  "painting",
  "hiking",
  "playing guitar",
  "swimming",
  "pottery",
  "reading mystery novels",
  "board games",
  "running",
  "woodworking",
  "yoga",
  "stargazing",
  "cooking spicy food",
  "learning languages",
  "volunteering at shelters",
  "dancing",
  "collecting stamps",
  "sketching",
  "kayaking",
  "calligraphy",
  "camping",
  "video games",
  "writing poetry",
  "jigsaw puzzles",
  "skateboarding",
  "sewing",
  "bowling",
  "table tennis",
  "singing in a choir",
  "model trains",
  "foraging",
  "archery",
  "beekeeping",
  "surfing",
  "origami",
  "crossword puzzles",
  "ice skating",
  "scuba diving",
  "drawing",
  "home brewing",
  "tending houseplants",
  "watching old films",
] as const;

/** Family income levels and structures (one combination per character). */
export const FAMILY_INCOME = ["low-income", "middle-income", "high-income"] as const;
export const FAMILY_STRUCTURE = ["nuclear", "single-parent", "blended", "extended"] as const;

/** The nine education levels. */
export const EDUCATION_LEVELS = [
  "have not attended any formal schooling",
  "finished primary school",
  "finished middle school",
  "graduated from high school",
  "completed a vocational training course",
  "have an associate degree",
  "have a bachelor's degree",
  "have a master's degree",
  "have a doctoral degree",
] as const;

/** Short-term goals (three per character). */
export const SHORT_TERM_GOALS = [
  "volunteering",
  "spending quality time with loved ones",
  "adopting a balanced diet",
  "getting fit",
  "learning a new skill",
  "reading more books",
  "saving money",
  "reducing screen time",
  "making new friends",
  "travelling to a nearby city",
  "decluttering the home",
  "sleeping better",
  "finishing an online course",
  "visiting family",
] as const;

/** Long-term goals (one per character). */
export const LONG_TERM_GOALS = [
  "buying a home",
  "starting a small business",
  "raising a happy family",
  "retiring early",
  "writing a book",
  "travelling around the world",
  "earning a university degree",
  "becoming a respected expert at work",
  "moving to the countryside",
  "paying off all debts",
] as const;

/** Options of {@link generateProfile}. */
export interface ProfileGeneratorOptions {
  /** Ages are counted at this date (ISO); fixed so the same seed gives the same profile. */
  today?: string;
  id?: string;
  bank?: TraitBank;
}

const pad = (n: number) => String(n).padStart(2, "0");

/**
 * Draws one profile; repeatable for a seed. The ground-truth stack is kept in `Function_stack`.
 *
 * @example
 * ```ts
 * import { generateProfile } from "./profile_generator.ts";
 * const p = generateProfile(42);
 * console.log(p.Name, p.Age, p.Function_stack);
 * ```
 */
export function generateProfile(
  seed: number,
  options: ProfileGeneratorOptions = {},
): CharacterProfile {
  const rng = new Prng(seed);
  const today = new Date(`${options.today ?? "2024-01-01"}T00:00:00Z`);
  if (Number.isNaN(today.getTime())) {
    throw new RangeError(
      `today is ${JSON.stringify(options.today)}; pass an ISO date such as 2024-01-01`,
    );
  }
  const gender = rng.choice(["female", "male", "non-binary"]);
  const name = `${rng.choice(FIRST[gender])} ${rng.choice(LAST)}`;
  const age = 20 + rng.int(36);
  // a birthday 0..364 days after the date exactly age+1 years ago keeps the age right at `today`
  const start = Date.UTC(today.getUTCFullYear() - age - 1, today.getUTCMonth(), today.getUTCDate());
  const born = new Date(start + (1 + rng.int(364)) * 86_400_000);
  const dob = `${born.getUTCFullYear()}-${pad(born.getUTCMonth() + 1)}-${pad(born.getUTCDate())}`;
  const stack = randomStack(rng);
  return {
    ID: options.id ?? String(seed).padStart(3, "0"),
    Gender: gender,
    Name: name,
    Age: age,
    Date_of_birth: dob,
    Photo: "NULL",
    Occupation: rng.choice(OCCUPATIONS),
    Traits: traitsFromStack(stack, options.bank ?? defaultTraitBank(), rng),
    Hobbies: rng.shuffle(HOBBIES).slice(0, 3).join(", "),
    Family: `${rng.choice(FAMILY_INCOME)}, ${rng.choice(FAMILY_STRUCTURE)} family`,
    Education: rng.choice(EDUCATION_LEVELS),
    "Short-term_goals": rng.shuffle(SHORT_TERM_GOALS).slice(0, 3).join(", "),
    "Long-term_goal": rng.choice(LONG_TERM_GOALS),
    Function_stack: stack,
  };
}

/**
 * Age in whole years at `today` for an ISO birth date (for checks).
 *
 * @example
 * ```ts
 * import { ageAt } from "./profile_generator.ts";
 * ageAt("1994-06-27", "2024-01-01"); // 29
 * ```
 */
export function ageAt(dob: string, today: string): number {
  const [y, m, d] = dob.split("-").map(Number);
  const [ty, tm, td] = today.split("-").map(Number);
  return ty - y - (tm < m || (tm === m && td < d) ? 1 : 0);
}
