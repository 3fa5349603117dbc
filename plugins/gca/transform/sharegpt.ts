/**
 * Book file → ShareGPT training samples (CoSER §1.8). Every conversation of a training plot is
 * rendered four times (`thoughtless` × `withOtherProfiles`), one sample per speaking character
 * (Environment included); a next-speaker sample is kept for 10% of conversations.
 *
 * @module
 */

import type { Prng } from "../../../core/util/prng.ts";
import { buildEnvironmentPrompt } from "../environment_prompt.ts";
import { CONVERSATION_START } from "../history.ts";
import { buildNspPrompt } from "../nsp_prompt.ts";
import { type Book, type BookPlot, ENVIRONMENT } from "../schemas.ts";
import { END_CHAT } from "../speaker.ts";
import { removeThoughts } from "../thoughts.ts";
import { randomCharacterPrompt } from "./templates.ts";

/** One ShareGPT turn. */
export interface ShareGptTurn {
  from: "system" | "human" | "assistant";
  value: string;
}

/** One ShareGPT sample. */
export interface ShareGptSample {
  conversations: ShareGptTurn[];
}

/** The four rendering variants of a conversation. */
export const VARIANTS: readonly { thoughtless: boolean; withOtherProfiles: boolean }[] = [
  { thoughtless: false, withOtherProfiles: false },
  { thoughtless: false, withOtherProfiles: true },
  { thoughtless: true, withOtherProfiles: false },
  { thoughtless: true, withOtherProfiles: true },
];

const REQUIREMENTS_THOUGHT = "Reply with your character's thoughts, words and actions: thoughts " +
  "that nobody else perceives inside [ ], visible actions inside ( ), speech outside brackets.";
const REQUIREMENTS_PLAIN =
  "Reply with your character's words and actions: visible actions inside ( ), " +
  "speech outside brackets.";

/** Speakers in order of first appearance. */
function speakersOf(dialogues: { character: string }[]): string[] {
  return [...new Set(dialogues.map((d) => d.character))];
}

/** True when a conversation can be used: every utterance has a speaker and a message, and someone other than Environment speaks. */
export function usableConversation(c: BookPlot["conversation"][number]): boolean {
  if (c.dialogues.length === 0) return false;
  if (c.dialogues.some((d) => !d.character?.trim() || !d.message?.trim())) return false;
  return c.dialogues.some((d) => d.character !== ENVIRONMENT);
}

/**
 * Builds the human / assistant turns of one speaker's sample: other speakers' lines (thoughts
 * removed, Environment as is) gather in human turns, the speaker's own lines in assistant turns
 * (`Name: message\n\n`, consecutive ones merged). Lines after the speaker's last turn are not
 * emitted.
 */
export function speakerTurns(
  dialogues: { character: string; message: string }[],
  speaker: string,
  thoughtless: boolean,
): ShareGptTurn[] {
  const turns: ShareGptTurn[] = [];
  let human = CONVERSATION_START;
  let assistant = "";
  for (const d of dialogues) {
    if (d.character === speaker) {
      const msg = thoughtless && speaker !== ENVIRONMENT ? removeThoughts(d.message) : d.message;
      if (!msg.trim()) continue;
      if (human) turns.push({ from: "human", value: human });
      human = "";
      assistant += `${speaker}: ${msg}\n\n`;
    } else {
      const msg = d.character === ENVIRONMENT ? d.message : removeThoughts(d.message);
      if (assistant) turns.push({ from: "assistant", value: assistant });
      assistant = "";
      human += `${d.character}: ${msg}\n\n`;
    }
  }
  if (assistant) turns.push({ from: "assistant", value: assistant });
  return turns;
}

/** Options of {@link bookToShareGpt}. */
export interface ShareGptOptions {
  prng: Prng;
  /** Share of conversations that also give a next-speaker sample (0.1). */
  nspRate?: number;
  /** Only plots before `split_plot_index` (default true). */
  trainOnly?: boolean;
}

/**
 * Renders a book's training conversations as ShareGPT samples (not shuffled; shuffle the union
 * of all books with the same seeded generator).
 *
 * @example
 * ```ts ignore
 * import { Prng } from "../../../core/util/prng.ts";
 * import { bookToShareGpt } from "./sharegpt.ts";
 * declare const book: import("../schemas.ts").Book;
 * const samples = bookToShareGpt(book, "The Salt Road", { prng: new Prng(42) });
 * ```
 */
export function bookToShareGpt(
  book: Book,
  title: string,
  options: ShareGptOptions,
): ShareGptSample[] {
  const { prng } = options;
  const nspRate = options.nspRate ?? 0.1;
  const out: ShareGptSample[] = [];
  const profile = (n: string) => book.character_datasets[n]?.profile ?? "";
  const majors = Object.keys(book.character_datasets).filter((n) => profile(n).trim());
  const last = (options.trainOnly ?? true) ? book.split_plot_index : book.plots.length;
  book.plots.slice(0, last).forEach((plot) => {
    for (const conv of plot.conversation) {
      if (!usableConversation(conv)) continue;
      const speakers = speakersOf(conv.dialogues);
      const convMajors = speakers.filter((s) => majors.includes(s));
      for (const v of VARIANTS) {
        for (const speaker of speakers) {
          let system: string;
          if (speaker === ENVIRONMENT) {
            const scenario = prng.next() < 0.5
              ? `${conv.scenario}\n${plot.summary}`
              : conv.scenario;
            system = buildEnvironmentPrompt(scenario, convMajors, prng);
          } else {
            const key = conv.key_characters.find((k) => k.name === speaker);
            const pc = plot.key_characters.find((k) => k.name === speaker);
            let prof = profile(speaker);
            if (pc?.experience && prng.next() < 0.5) prof = `${prof}\n\n${pc.experience}`.trim();
            const motivation = prng.next() < 0.5 ? "" : key?.motivation || key?.description || "";
            const plotSummary = prng.next() < 0.5 ? plot.summary : undefined;
            const requirements = v.thoughtless
              ? (prng.next() < 0.5 ? undefined : REQUIREMENTS_PLAIN)
              : REQUIREMENTS_THOUGHT;
            const others = v.withOtherProfiles
              ? speakers.filter((s) => s !== speaker && s !== ENVIRONMENT && profile(s).trim())
                .map((s) => [s, profile(s)] as [string, string])
              : undefined;
            system = randomCharacterPrompt({
              name: speaker,
              book: title,
              profile: prof,
              others,
              plotSummary,
              scenario: conv.scenario,
              motivation,
              requirements,
            }, prng);
          }
          const turns = speakerTurns(conv.dialogues, speaker, v.thoughtless);
          if (!turns.some((t) => t.from === "assistant")) continue;
          out.push({ conversations: [{ from: "system", value: system }, ...turns] });
        }
      }
      if (prng.next() < nspRate) out.push(nspSample(conv, speakers, majors, prng));
    }
  });
  return out;
}

/**
 * A next-speaker sample: the NSP prompt (name-only answers), then for every utterance the
 * speaker's name (minor, non-Environment speakers become `random` with p = 0.25) followed by the
 * utterance with thoughts kept, and `<END CHAT>` at the end.
 */
export function nspSample(
  conv: BookPlot["conversation"][number],
  speakers: string[],
  majors: readonly string[],
  prng: Prng,
): ShareGptSample {
  const turns: ShareGptTurn[] = [
    { from: "system", value: buildNspPrompt(conv.scenario, speakers, "name_only") },
    { from: "human", value: CONVERSATION_START.trim() },
  ];
  for (const d of conv.dialogues) {
    const minor = d.character !== ENVIRONMENT && !majors.includes(d.character);
    turns.push({ from: "assistant", value: minor && prng.next() < 0.25 ? "random" : d.character });
    turns.push({ from: "human", value: `${d.character}: ${d.message}` });
  }
  turns.push({ from: "assistant", value: END_CHAT });
  return { conversations: turns };
}
