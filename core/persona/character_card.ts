/**
 * SillyTavern character cards: V1 (flat JSON), V2 (`chara_card_v2`) and V3 (`chara_card_v3`),
 * from JSON or from PNG (`ccv3` or `chara` tEXt chunk, base64 of the JSON), imported into a
 * Persona. Card fields keep their `{{char}}` / `{{user}}` macros; they are substituted when the
 * persona's messages are built, so the user name can change per persona.
 *
 * @module
 */

import { z } from "zod";
import type { Persona } from "../contracts/persona.ts";
import { withCode } from "../errors.ts";
import { jsonDepth } from "../util/json_depth.ts";
import { isPng, readPngText } from "./png_chunks.ts";
import { parsePersona } from "./persona_store.ts";

const text = z.string().nullish().transform((v) => v ?? "");

const CardDataSchema = z.object({
  name: z.string().min(1),
  description: text,
  personality: text,
  scenario: text,
  first_mes: text,
  mes_example: text,
  system_prompt: text,
  post_history_instructions: text,
  creator_notes: text,
  alternate_greetings: z.array(z.string()).nullish().transform((v) => v ?? []),
  tags: z.array(z.string()).nullish().transform((v) => v ?? []),
  creator: text,
  character_version: text,
  /** V3 only: the name `{{char}}` stands for, when set. */
  nickname: z.string().nullish(),
}).loose();

/** A card's character data, normalised across V1, V2 and V3. */
export type CardData = z.infer<typeof CardDataSchema>;

/** A parsed character card. */
export interface CharacterCard {
  spec: "chara_card_v1" | "chara_card_v2" | "chara_card_v3";
  data: CardData;
}

function cardError(source: string, message: string): SyntaxError {
  return withCode(new SyntaxError(`${source}: ${message}`), "E_CONFIG");
}

/**
 * Parses a card object (already decoded from JSON).
 *
 * @example
 * ```ts
 * import { parseCharacterCard } from "./character_card.ts";
 * const card = parseCharacterCard({ spec: "chara_card_v2", spec_version: "2.0",
 *   data: { name: "Ada", description: "{{char}} is a mathematician." } });
 * console.log(card.data.name); // "Ada"
 * ```
 */
export function parseCharacterCard(value: unknown, source = "card"): CharacterCard {
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw cardError(source, "a character card must be a JSON object");
  }
  const obj = value as Record<string, unknown>;
  const spec = obj.spec;
  let raw: unknown;
  let kind: CharacterCard["spec"];
  if (spec === "chara_card_v2" || spec === "chara_card_v3") {
    kind = spec;
    raw = obj.data;
  } else if (spec === undefined && typeof obj.name === "string") {
    kind = "chara_card_v1";
    raw = obj;
  } else {
    throw cardError(
      source,
      `spec is ${
        JSON.stringify(spec)
      }; expected chara_card_v2, chara_card_v3, or a V1 card with a name`,
    );
  }
  const result = CardDataSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const prefix = kind === "chara_card_v1" ? "" : "data.";
    throw cardError(
      source,
      `field ${prefix}${issue.path.map(String).join(".")}: ${issue.message}; fix the card`,
    );
  }
  return { spec: kind, data: result.data };
}

function decodeBase64Json(b64: string, source: string, keyword: string): unknown {
  let json: string;
  try {
    const bin = atob(b64.trim());
    json = new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(bin, (c) => c.charCodeAt(0)),
    );
  } catch {
    throw cardError(source, `the ${keyword} chunk is not base64 of UTF-8 text`);
  }
  return parseCardJson(json, source, `the ${keyword} chunk`);
}

/** Largest card JSON accepted (2 MiB of text). */
export const MAX_CARD_JSON_BYTES = 2 << 20;
/** Deepest nesting accepted in a card's JSON. */
export const MAX_CARD_DEPTH = 32;

function parseCardJson(text: string, source: string, what: string): unknown {
  if (text.length > MAX_CARD_JSON_BYTES) {
    throw withCode(
      cardError(
        source,
        `${what} holds ${text.length} characters of JSON, over ${MAX_CARD_JSON_BYTES}`,
      ),
      "E_LIMIT",
    );
  }
  const depth = jsonDepth(text);
  if (depth > MAX_CARD_DEPTH) {
    throw withCode(
      cardError(source, `${what} nests ${depth} levels deep, over the limit of ${MAX_CARD_DEPTH}`),
      "E_LIMIT",
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw cardError(source, `${what} is not JSON (${(error as Error).message})`);
  }
}

/**
 * Reads a card from bytes: a PNG (the `ccv3` chunk when present, else `chara`) or JSON text.
 *
 * @example
 * ```ts
 * import { readCharacterCard } from "./character_card.ts";
 * const card = readCharacterCard(await Deno.readFile("ada.png"), "ada.png");
 * console.log(card.spec);
 * ```
 */
export function readCharacterCard(bytes: Uint8Array, source = "card"): CharacterCard {
  if (isPng(bytes)) {
    const chunks = readPngText(bytes, source);
    const keyword = chunks.has("ccv3") ? "ccv3" : chunks.has("chara") ? "chara" : undefined;
    if (!keyword) {
      throw cardError(
        source,
        "the PNG has no 'chara' or 'ccv3' text chunk; it is not a character card",
      );
    }
    return parseCharacterCard(decodeBase64Json(chunks.get(keyword)!, source, keyword), source);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw cardError(source, "neither a PNG nor UTF-8 JSON text");
  }
  return parseCharacterCard(parseCardJson(text, source, "the card"), source);
}

/**
 * The prompt used when a card brings no system prompt of its own.
 *
 * @example
 * ```ts
 * import { DEFAULT_CARD_PROMPT } from "./character_card.ts";
 * console.log(DEFAULT_CARD_PROMPT.includes("{{char}}")); // true
 * ```
 */
export const DEFAULT_CARD_PROMPT =
  "You are {{char}}. Stay in character and write {{char}}'s next reply in this conversation with {{user}}.";

/** Turns a card's example dialogue (blocks separated by `<START>`) into plain text. */
function formatExamples(mesExample: string): string {
  return mesExample.split(/<START>/i).map((block) => block.trim()).filter(Boolean).join("\n\n");
}

/**
 * Builds the persona system prompt from a card: the card's system prompt (its `{{original}}`
 * replaced by the default) or the default, then description, personality, scenario and example
 * dialogue, each when present. Macros are kept.
 *
 * @example
 * ```ts
 * import { cardSystemPrompt } from "./character_card.ts";
 * console.log(cardSystemPrompt({ name: "Ada", description: "{{char}} counts." } as never));
 * ```
 */
export function cardSystemPrompt(data: CardData): string {
  const main = data.system_prompt.trim()
    ? data.system_prompt.replace(/\{\{original\}\}/gi, DEFAULT_CARD_PROMPT)
    : DEFAULT_CARD_PROMPT;
  const parts = [
    main.trim(),
    data.description.trim(),
    data.personality.trim() && `{{char}}'s personality: ${data.personality.trim()}`,
    data.scenario.trim() && `Scenario: ${data.scenario.trim()}`,
    data.mes_example.trim() &&
    `Example dialogue between {{char}} and {{user}}:\n${formatExamples(data.mes_example)}`,
  ];
  return parts.filter(Boolean).join("\n\n");
}

/**
 * A persona name from a character name: unsafe characters become `_`.
 *
 * @example
 * ```ts
 * import { personaNameFor } from "./character_card.ts";
 * console.log(personaNameFor("Zoë the Bold!")); // "Zoe_the_Bold"
 * ```
 */
export function personaNameFor(characterName: string): string {
  const name = characterName.normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
    .replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[^A-Za-z0-9]+/, "").replace(/_+$/, "");
  return name || "character";
}

/** Options of {@link cardToPersona}. */
export interface CardImportOptions {
  /** The base model directory or hub id the persona runs on. */
  model: string;
  /** Persona name (default: derived from the character's name). */
  name?: string;
  /** Name for `{{user}}` (default `User`). */
  userName?: string;
}

/**
 * Maps a card to a persona: system prompt from {@link cardSystemPrompt}, first message from
 * `first_mes`, `{{char}}` bound to the V3 nickname or the card name; the whole card data stays in
 * `metadata.card` for provenance (alternate greetings, post-history instructions, lorebook).
 *
 * @example
 * ```ts
 * import { cardToPersona, parseCharacterCard } from "./character_card.ts";
 * const card = parseCharacterCard({ name: "Ada", first_mes: "Hello {{user}}." });
 * console.log(cardToPersona(card, { model: "./tiny" }).first_message); // "Hello {{user}}."
 * ```
 */
export function cardToPersona(card: CharacterCard, options: CardImportOptions): Persona {
  const { data } = card;
  const charName = data.nickname?.trim() || data.name;
  return parsePersona({
    name: options.name ?? personaNameFor(data.name),
    description: `Imported from a SillyTavern ${card.spec} card: ${data.name}` +
      (data.creator ? ` by ${data.creator}` : ""),
    model: options.model,
    system_prompt: cardSystemPrompt(data),
    ...(data.first_mes.trim() ? { first_message: data.first_mes } : {}),
    char_name: charName,
    user_name: options.userName ?? "User",
    metadata: { source: card.spec, card: data },
  }, `card ${JSON.stringify(data.name)}`);
}

/**
 * Reads a card file (JSON or PNG) and maps it to a persona.
 *
 * @example
 * ```ts
 * import { importCharacterCard } from "./character_card.ts";
 * const persona = await importCharacterCard("./cards/ada.png", { model: "./tiny" });
 * console.log(persona.name, persona.char_name);
 * ```
 */
export async function importCharacterCard(
  input: string | Uint8Array,
  options: CardImportOptions,
): Promise<Persona> {
  const bytes = typeof input === "string" ? await Deno.readFile(input) : input;
  const source = typeof input === "string" ? input : "card";
  return cardToPersona(readCharacterCard(bytes, source), options);
}
