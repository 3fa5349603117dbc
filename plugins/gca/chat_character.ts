/**
 * Chatting with a CoSER book character the way the paper's released chat example does: a system
 * prompt that casts the model as the character from the book (profile, optional scenario) and
 * asks for thoughts in `[ ]` and actions in `( )`; user turns prefixed with the user's character
 * name when one is given; replies rendered with thoughts, actions and speech told apart. The
 * wording is this project's own.
 *
 * @module
 */

import { basename, extname } from "node:path";
import type { ChatMessage } from "../../core/contracts/chat_model.ts";
import { withCode } from "../../core/errors.ts";
import type { Book } from "./schemas.ts";

/** A character of a book, ready to be played. */
export interface BookCharacter {
  name: string;
  book: string;
  /** The book-level profile, else the character's plot descriptions. */
  profile: string;
}

/**
 * The book title of a book file: its file name without `.json` (CoSER names `data/final/<title>.json`).
 *
 * @example
 * ```ts
 * import { bookTitleOf } from "./chat_character.ts";
 * bookTitleOf("data/final/Othello.json"); // "Othello"
 * ```
 */
export function bookTitleOf(path: string): string {
  return basename(path, extname(path));
}

/**
 * Finds a character of a book (exact name, else the one case-insensitive match) with its profile.
 * An unknown or ambiguous name is an `E_DATA` error listing names to use.
 *
 * @example
 * ```ts ignore
 * import { bookCharacter } from "./chat_character.ts";
 * const c = bookCharacter(book, "iago", "Othello"); // { name: "Iago", book: "Othello", profile: "…" }
 * ```
 */
export function bookCharacter(book: Book, name: string, title: string): BookCharacter {
  const names = new Set(Object.keys(book.character_datasets));
  for (const p of book.plots) for (const k of p.key_characters) names.add(k.name);
  let found = names.has(name) ? name : undefined;
  if (!found) {
    const matches = [...names].filter((n) => n.toLowerCase() === name.trim().toLowerCase());
    if (matches.length === 1) found = matches[0];
  }
  if (!found) {
    const sorted = [...names].sort();
    const near = sorted.filter((n) => n.toLowerCase().includes(name.trim().toLowerCase()));
    throw withCode(
      new TypeError(
        `--character ${JSON.stringify(name)} is not a character of ${title}; use one of ${
          (near.length ? near : sorted).slice(0, 12).join(", ")
        }${(near.length ? near : sorted).length > 12 ? ", …" : ""}`,
      ),
      "E_DATA",
    );
  }
  let profile = book.character_datasets[found]?.profile?.trim() ?? "";
  if (!profile) {
    const descriptions = book.plots.flatMap((p) =>
      p.key_characters.filter((k) => k.name === found).map((k) => k.description.trim())
    ).filter(Boolean);
    profile = [...new Set(descriptions)].join(" ");
  }
  return { name: found, book: title, profile };
}

/**
 * The system prompt of a chat with a book character.
 *
 * @example
 * ```ts
 * import { coserChatSystemPrompt } from "./chat_character.ts";
 * const p = coserChatSystemPrompt({ name: "Iago", book: "Othello", profile: "Othello's ensign." });
 * p.startsWith("Play the role of Iago from Othello."); // true
 * ```
 */
export function coserChatSystemPrompt(
  character: BookCharacter,
  options: { scenario?: string; userName?: string } = {},
): string {
  const parts = [`Play the role of ${character.name} from ${character.book}.`];
  if (character.profile) parts.push(`===${character.name}'s Profile===\n${character.profile}`);
  if (options.scenario?.trim()) parts.push(`===Current Scenario===\n${options.scenario.trim()}`);
  if (options.userName) {
    parts.push(`You are talking with ${options.userName}; their turns begin with their name.`);
  }
  parts.push(
    "===Requirements===\nStay in character. Write your character's thoughts, which nobody else " +
      "can see, in square brackets [like this]; write actions others can see in round brackets " +
      `(like this); everything else is spoken aloud. Begin your reply with "${character.name}: ".`,
  );
  return parts.join("\n\n");
}

/**
 * A user turn in the CoSER chat format: `Name: message` when the user plays a named character.
 *
 * @example
 * ```ts
 * import { userTurn } from "./chat_character.ts";
 * userTurn("(taps the desk) Well?", "George Ord"); // "George Ord: (taps the desk) Well?"
 * ```
 */
export function userTurn(message: string, userName?: string): string {
  return userName ? `${userName}: ${message}` : message;
}

/** One part of a reply. */
export interface ReplySegment {
  kind: "thought" | "action" | "speech";
  text: string;
}

/**
 * Splits a reply into ordered segments: `[thought]`, `(action)` and speech, after dropping a
 * leading `Name: ` prefix (CoSER models start with the character's name). An unclosed bracket is
 * speech.
 *
 * @example
 * ```ts
 * import { replySegments } from "./chat_character.ts";
 * replySegments("Iago: [He trusts me.] (bows) My lord.", "Iago");
 * // [{kind:"thought",text:"He trusts me."},{kind:"action",text:"bows"},{kind:"speech",text:"My lord."}]
 * ```
 */
export function replySegments(reply: string, character: string): ReplySegment[] {
  let text = reply.trim();
  const prefix = `${character}:`;
  if (text.startsWith(prefix)) text = text.slice(prefix.length).trim();
  const out: ReplySegment[] = [];
  const push = (kind: ReplySegment["kind"], t: string) => {
    const s = t.replace(/\s+/g, " ").trim();
    if (s) out.push({ kind, text: s });
  };
  let rest = text;
  const re = /\[([^\]\n]*)\]|\(([^)\n]*)\)/;
  for (let m = re.exec(rest); m; m = re.exec(rest)) {
    push("speech", rest.slice(0, m.index));
    if (m[1] !== undefined) push("thought", m[1]);
    else push("action", m[2]);
    rest = rest.slice(m.index + m[0].length);
  }
  push("speech", rest);
  return out;
}

/**
 * Renders a reply for a reader: `Name: [thought] (action) speech`, with ANSI styles (thoughts dim
 * italic, actions cyan) when `color` is set.
 *
 * @example
 * ```ts
 * import { renderReply } from "./chat_character.ts";
 * renderReply([{ kind: "thought", text: "Careful." }, { kind: "speech", text: "Hello." }], "Iago", false);
 * // "Iago: [Careful.] Hello."
 * ```
 */
export function renderReply(segments: readonly ReplySegment[], name: string, color: boolean) {
  const style = (s: ReplySegment) => {
    if (s.kind === "thought") return color ? `\x1b[2;3m[${s.text}]\x1b[0m` : `[${s.text}]`;
    if (s.kind === "action") return color ? `\x1b[36m(${s.text})\x1b[0m` : `(${s.text})`;
    return s.text;
  };
  return `${color ? `\x1b[1m${name}:\x1b[0m` : `${name}:`} ${segments.map(style).join(" ")}`;
}

/**
 * The assistant turn kept in the history: the reply with the character's name prefix, as CoSER
 * transcripts show it.
 */
export function assistantTurn(reply: string, character: string): ChatMessage {
  const text = reply.trim();
  return {
    role: "assistant",
    content: text.startsWith(`${character}:`) ? text : `${character}: ${text}`,
  };
}
