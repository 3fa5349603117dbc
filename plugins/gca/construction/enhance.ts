/**
 * Conversation enhancement (CoSER §1.9 step 6): a model rewrites a conversation's scenario
 * (under 200 words, rich context, nothing from the future) and each key character's motivation
 * (under 100 words: feelings, goals, topics, what they want to get across). The reply must cover
 * every original key character. Own prompt wording.
 *
 * @module
 */

import type { ChatModel } from "../../../core/contracts/chat_model.ts";
import { chatJson } from "../../../core/util/json_extract.ts";
import type { BuiltPlot } from "./merge.ts";

type Conv = BuiltPlot["conversation"][number];

/** The enhancement conversation for one conversation of a plot. */
export function buildEnhancePrompt(
  book: string,
  plot: BuiltPlot,
  conv: Conv,
  language: "en" | "zh",
) {
  const lines = conv.dialogues.map((d) => `${d.character}: ${d.message}`).join("\n");
  return [
    {
      role: "system" as const,
      content:
        `You prepare scenes from ${book} for actors. Rewrite the setup of the conversation below:\n` +
        "- scenario: under 200 words; who is where, what has just happened and what is at stake, " +
        "with enough context to act the scene; say nothing about what happens later.\n" +
        "- for every key character, motivation: under 100 words in their own inner voice — what they " +
        "feel, what they want, what they mean to raise or conceal.\n" +
        `Write in ${language === "zh" ? "Chinese" : "English"}. Answer with JSON only: ` +
        '{"scenario": "", "key_characters": [{"name": "", "motivation": ""}]}',
    },
    {
      role: "user" as const,
      content: `===Plot summary===\n${plot.summary}\n\n===Scenario===\n${conv.scenario}\n\n` +
        `===Key characters===\n${
          conv.key_characters.map((k) => `${k.name}: ${k.motivation}`).join("\n")
        }\n\n` +
        `===Conversation===\n${lines}`,
    },
  ];
}

/**
 * Enhances one conversation; on failure returns it unchanged with `ok: false`.
 *
 * @example
 * ```ts ignore
 * import { enhanceConversation } from "./enhance.ts";
 * declare const model: import("../../../core/contracts/chat_model.ts").ChatModel;
 * declare const plot: import("./merge.ts").BuiltPlot;
 * const r = await enhanceConversation(model, "B", plot, plot.conversation[0]);
 * ```
 */
export async function enhanceConversation(
  model: ChatModel,
  book: string,
  plot: BuiltPlot,
  conv: Conv,
  options: { language?: "en" | "zh"; maxRetries?: number } = {},
): Promise<{ conversation: Conv; ok: boolean; reason?: string }> {
  const names = conv.key_characters.map((k) => k.name);
  const r = await chatJson(model, {
    messages: buildEnhancePrompt(book, plot, conv, options.language ?? "en"),
  }, {
    expect: "object",
    maxRetries: options.maxRetries ?? 5,
    validate: (v) => {
      const o = v as { scenario?: unknown; key_characters?: unknown };
      if (typeof o.scenario !== "string" || !o.scenario.trim()) {
        throw new TypeError("scenario is missing");
      }
      if (!Array.isArray(o.key_characters)) throw new TypeError("key_characters is not a list");
      const got = new Map<string, string>();
      for (const k of o.key_characters as { name?: unknown; motivation?: unknown }[]) {
        if (typeof k?.name === "string" && typeof k.motivation === "string") {
          got.set(k.name, k.motivation);
        }
      }
      const missing = names.filter((n) => !got.has(n));
      if (missing.length) throw new TypeError(`key_characters lacks ${JSON.stringify(missing)}`);
      return { scenario: o.scenario, motivations: got };
    },
  });
  if (!r.ok) return { conversation: conv, ok: false, reason: r.reason };
  return {
    ok: true,
    conversation: {
      ...conv,
      scenario: r.value.scenario,
      key_characters: conv.key_characters.map((k) => ({
        ...k,
        motivation: r.value.motivations.get(k.name)!,
      })),
    },
  };
}
