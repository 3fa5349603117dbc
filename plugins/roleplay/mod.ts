/**
 * LLM Roleplay (Tamoyan et al., arXiv 2407.03974): goal-oriented, persona-based simulated users
 * talking to any chatbot. `roleplay()` makes the Plugin object (the host lists it); this module
 * exports it and all its parts.
 *
 * @module
 */

export * from "./context_window.ts";
export * from "./counters.ts";
export * from "./extract_prompt.ts";
export * from "./generate_command.ts";
export * from "./generate_dialogs.ts";
export * from "./goals.ts";
export * from "./indistinguishability_judge.ts";
export * from "./judge_command.ts";
export * from "./judge_dialogs.ts";
export * from "./model_spec.ts";
export * from "./non_coherent.ts";
export * from "./options.ts";
export * from "./persona.ts";
export { roleplay } from "./plugin.ts";
export * from "./prompts.ts";
export * from "./record.ts";
export * from "./simulator.ts";
export * from "./stop_dialog.ts";
