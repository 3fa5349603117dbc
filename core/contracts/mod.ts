/**
 * The five Dramatis contracts — adapter, trainer, steerer, simulator, judge — plus ChatModel,
 * Persona, Plugin and the request extensions plugins declare. Contract files hold types and schemas only, no implementation.
 *
 * @module
 */

export * from "./adapter.ts";
export * from "./chat_model.ts";
export * from "./judge.ts";
export * from "./persona.ts";
export * from "./plugin.ts";
export * from "./request_extension.ts";
export * from "./simulator.ts";
export * from "./steerer.ts";
export * from "./trainer.ts";
