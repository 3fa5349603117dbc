/**
 * Biography and life-story prompts of Human Simulacra (§2.3): a short plain biography written from
 * the profile, later expanded paragraph by paragraph into a long life story.
 *
 * @module
 */

import type { ChatMessage, ChatModel } from "../../core/contracts/chat_model.ts";
import { basicInfo, type CharacterProfile } from "./profile.ts";

/** An introduction record (`character_introductions.json` entry). */
export interface CharacterIntroduction {
  ID: string;
  Name: string;
  Personality_traits: string;
  /** The basic-information line wrapped in `""` lines (traits left out). */
  Basic_infos: string;
  /** User-added attributes, appended to the basic information at load time. */
  Extra: Record<string, string>;
  /** The biography. */
  Content: string;
}

/**
 * The writer's messages for a biography (send at temperature 0.5).
 *
 * @example
 * ```ts
 * import { biographyMessages } from "./biography.ts";
 * declare const p: import("./profile.ts").CharacterProfile;
 * const messages = biographyMessages(p);
 * ```
 */
export function biographyMessages(p: CharacterProfile): ChatMessage[] {
  return [
    {
      role: "system",
      content: "You are a writer who records the ordinary lives of the people of East Town. " +
        "You write plainly and factually, like a careful chronicler, never like a novelist.",
    },
    {
      role: "user",
      content: `Write the life of this person from birth to today.\n` +
        `Basic information: ${basicInfo(p)}\nPersonality: ${p.Traits}\n\n` +
        "Rules: fewer than 1000 words; tell events in the order they happened; use simple, " +
        "everyday language; describe what happened, not how anyone felt; stay consistent with " +
        "every attribute above; output only the biography, in paragraphs.",
    },
  ];
}

/**
 * Writes a biography with the given model (temperature 0.5 as in the reference).
 *
 * @example
 * ```ts
 * import { writeBiography } from "./biography.ts";
 * declare const writer: import("../../core/contracts/chat_model.ts").ChatModel;
 * declare const p: import("./profile.ts").CharacterProfile;
 * const bio = await writeBiography(writer, p);
 * ```
 */
export async function writeBiography(writer: ChatModel, p: CharacterProfile): Promise<string> {
  const r = await writer.chat({
    messages: biographyMessages(p),
    temperature: 0.5,
    max_tokens: 1600,
  });
  return (r.choices[0]?.message.content ?? "").trim();
}

/**
 * Builds the introduction record of a character.
 *
 * @example
 * ```ts
 * import { makeIntroduction } from "./biography.ts";
 * declare const p: import("./profile.ts").CharacterProfile;
 * makeIntroduction(p, "Born in East Town...").Basic_infos.startsWith('""\nName:'); // true
 * ```
 */
export function makeIntroduction(
  p: CharacterProfile,
  biography: string,
  extra: Record<string, string> = {},
): CharacterIntroduction {
  return {
    ID: p.ID,
    Name: p.Name,
    Personality_traits: p.Traits,
    Basic_infos: `""\n${basicInfo(p)}\n""`,
    Extra: extra,
    Content: biography,
  };
}

/**
 * Splits a story into paragraphs: one per non-blank line, trimmed.
 *
 * @example
 * ```ts
 * import { splitParagraphs } from "./biography.ts";
 * splitParagraphs("a\n\n b \n"); // ["a", "b"]
 * ```
 */
export function splitParagraphs(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "");
}

/**
 * The writer's messages for expanding one paragraph of a draft. `context` is the whole draft or a
 * window of neighbouring paragraphs with a summary of the rest.
 *
 * @example
 * ```ts
 * import { expansionMessages } from "./biography.ts";
 * declare const p: import("./profile.ts").CharacterProfile;
 * expansionMessages(p, "the whole draft…", "She moved to the coast.");
 * ```
 */
export function expansionMessages(
  p: CharacterProfile,
  context: string,
  paragraph: string,
): ChatMessage[] {
  return [
    {
      role: "system",
      content: "You help expand a person's life story one paragraph at a time. Be inventive but " +
        "even-handed, use simple words, and stay consistent with the person's attributes and " +
        "with the paragraphs around the one you expand. If the paragraph is already complete, " +
        "you may return it unchanged.",
    },
    {
      role: "user",
      content: `Basic information: ${basicInfo(p)}\nPersonality: ${p.Traits}\n\n` +
        `The story so far:\n<<<\n${context}\n>>>\n\nParagraph to expand:\n<<<\n${paragraph}\n>>>\n\n` +
        "Return only the expanded paragraph or paragraphs, one per line, nothing else.",
    },
  ];
}
