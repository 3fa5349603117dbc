/**
 * Test doubles for code that talks to a {@link ChatModel}.
 *
 * @example
 * ```ts
 * import { ScriptedChatModel } from "./mod.ts";
 * const model = new ScriptedChatModel();
 * console.log((await model.chat({ messages: [{ role: "user", content: "hi" }] })).choices[0]);
 * ```
 *
 * @module
 */

import type { ChatModel } from "../../contracts/chat_model.ts";
export type { ChatModel };
export * from "./scripted_chat_model.ts";
