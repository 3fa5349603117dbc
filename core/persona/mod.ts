/**
 * Personas: the JSON-file store, SillyTavern character card import (V1/V2/V3, JSON or PNG),
 * `{{char}}` / `{{user}}` macros, the message list a persona sends, and `PersonaChatModel`,
 * which plays a persona on any base ChatModel.
 *
 * @example
 * ```ts
 * import { importCharacterCard, PersonaStore } from "./mod.ts";
 * const store = new PersonaStore("./personas");
 * await store.put(await importCharacterCard("./cards/ada.png", { model: "./tiny" }));
 * ```
 *
 * @module
 */

export * from "./character_card.ts";
export * from "./macros.ts";
export * from "./persona_chat_model.ts";
export * from "./persona_messages.ts";
export * from "./persona_store.ts";
export * from "./png_chunks.ts";
