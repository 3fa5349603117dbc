/**
 * SillyTavern name macros: `{{char}}` and `{{user}}`, case-insensitive, plus the legacy
 * `<BOT>`, `<CHAR>` and `<USER>` markers older cards still carry.
 *
 * @module
 */

/** The names the macros stand for. */
export interface MacroNames {
  /** The character's name (`{{char}}`, `<BOT>`, `<CHAR>`). */
  char: string;
  /** The user's name (`{{user}}`, `<USER>`). */
  user: string;
}

const MACRO = /\{\{\s*(char|user)\s*\}\}|<(bot|char|user)>/gi;

/**
 * Replaces the name macros in `text`. Other `{{…}}` macros are left as they are.
 *
 * @example
 * ```ts
 * import { substituteMacros } from "./macros.ts";
 * console.log(substituteMacros("{{Char}} greets {{USER}}.", { char: "Ada", user: "Sam" }));
 * // "Ada greets Sam."
 * ```
 */
export function substituteMacros(text: string, names: MacroNames): string {
  // A replacer function, so `$&` or `$1` inside a name stay literal.
  return text.replace(MACRO, (_m, braced?: string, legacy?: string) => {
    const which = (braced ?? legacy)!.toLowerCase();
    return which === "user" ? names.user : names.char;
  });
}
