/**
 * Character profiles (CoSER §1.9 step 6): a model writes a concise narrative profile of a
 * character (background, appearance, personality, motivations, relationships, key experiences and
 * decisions, arc) from the training-split plot summaries, the character's experiences and
 * conversations, without inventing facts, and puts it after a `===Profile===` marker. A reply that
 * starts "I apologize" gives an empty profile. Own prompt wording.
 *
 * @module
 */

import type { ChatModel } from "../../../core/contracts/chat_model.ts";

/** The material a profile is written from. */
export interface ProfileMaterial {
  book: string;
  name: string;
  language: "en" | "zh";
  plotSummaries: string[];
  experiences: string[];
  conversations: string[];
}

/** The profile conversation. */
export function buildProfilePrompt(m: ProfileMaterial) {
  return [
    {
      role: "system" as const,
      content: `You write character guides for ${m.book}. Using only the material given, write a ` +
        `concise narrative profile of ${m.name}: background, appearance, personality, motivations, ` +
        "relationships, key experiences and decisions, and how the character changes. Do not invent " +
        `facts. Write in ${
          m.language === "zh" ? "Chinese" : "English"
        }. You may think first; then ` +
        "write the line ===Profile=== followed by the profile.",
    },
    {
      role: "user" as const,
      content: `===Plot summaries===\n${m.plotSummaries.join("\n")}\n\n` +
        `===${m.name}'s experiences===\n${m.experiences.join("\n")}\n\n` +
        `===Conversations===\n${m.conversations.join("\n\n")}`,
    },
  ];
}

/**
 * Writes a profile; "" when every attempt fails or the model apologises.
 *
 * @example
 * ```ts ignore
 * import { writeProfile } from "./profiles.ts";
 * declare const model: import("../../../core/contracts/chat_model.ts").ChatModel;
 * const p = await writeProfile(model, { book: "B", name: "Mira", language: "en",
 *   plotSummaries: [], experiences: [], conversations: [] });
 * ```
 */
export async function writeProfile(
  model: ChatModel,
  m: ProfileMaterial,
  maxRetries = 5,
): Promise<string> {
  for (let attempt = 0; attempt <= maxRetries; attempt++) {
    let text: string;
    try {
      const r = await model.chat({
        messages: buildProfilePrompt(m),
        temperature: attempt === 0 ? 0 : 1,
      });
      text = r.choices[0]?.message.content ?? "";
    } catch {
      continue;
    }
    if (text.trimStart().startsWith("I apologize")) return "";
    const at = text.indexOf("===Profile===");
    if (at >= 0 && text.slice(at + 13).trim()) return text.slice(at + 13).trim();
  }
  return "";
}
