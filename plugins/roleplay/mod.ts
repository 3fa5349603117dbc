/**
 * LLM Roleplay (Tamoyan et al., arXiv 2407.03974): goal-oriented, persona-based simulated users
 * talking to any chatbot. The Plugin object is wired by the host; this module exports the parts.
 *
 * @module
 */

export * from "./context_window.ts";
export * from "./counters.ts";
export * from "./extract_prompt.ts";
export * from "./goals.ts";
export * from "./indistinguishability_judge.ts";
export * from "./non_coherent.ts";
export * from "./options.ts";
export * from "./persona.ts";
export * from "./prompts.ts";
export * from "./record.ts";
export * from "./simulator.ts";
export * from "./stop_dialog.ts";
