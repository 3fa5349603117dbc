/**
 * `persona_vectors steer`: generate with one or more steering entries (spec B5), next to the
 * unsteered reply.
 *
 * @module
 */

import type { ChatMessage } from "../../../core/contracts/chat_model.ts";
import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { UsageError } from "../../../core/errors.ts";
import { writeJsonAtomic } from "../../../core/util/atomic.ts";
import { splitArtifact } from "../trait_artifact.ts";
import {
  emit,
  MODEL_FLAGS,
  num,
  openModel,
  parseSteerFlags,
  resolveArtifact,
  str,
} from "./common.ts";

/** Prompts from `--prompt` flags or the first N eval questions of `--trait`. */
export async function promptsFrom(
  flags: Record<string, unknown>,
  count: number | undefined,
): Promise<string[]> {
  const prompts = [...((flags.prompt as string[] | undefined) ?? [])];
  if (typeof flags.trait === "string") {
    const eval_ = splitArtifact(await resolveArtifact(flags.trait)).eval.questions;
    prompts.push(...eval_.slice(0, count ?? eval_.length));
  }
  if (prompts.length === 0) {
    throw new UsageError('give --prompt "..." (repeatable) or --trait <name>');
  }
  return prompts;
}

/**
 * The command.
 *
 * @example
 * ```sh
 * deno task dramatis persona_vectors steer --model ./models/qwen --prompt "How was your day?" \
 *   --steer runs/opt/vectors/optimistic_response_avg_diff.safetensors:2:20:response
 * ```
 */
export const steerCommand: PluginCommand = {
  name: "steer",
  description:
    "Generate with steering entries vector:coefficient:layer[:all|prompt|response[:add|ablate]] (several add up).",
  flags: {
    steer: {
      type: "string",
      multiple: true,
      description: "steering entry (repeatable)",
      required: true,
    },
    prompt: { type: "string", multiple: true, description: "user prompt (repeatable)" },
    trait: { type: "string", description: "use this trait's eval questions as prompts" },
    questions: { type: "number", description: "how many eval questions with --trait" },
    system: { type: "string", description: "system prompt" },
    "max-tokens": { type: "number", description: "new tokens", default: 64 },
    temperature: { type: "number", description: "sampling temperature", default: 0 },
    seed: { type: "number", description: "seed", default: 0 },
    "no-baseline": { type: "boolean", description: "skip the unsteered reply" },
    out: { type: "string", description: "write the replies as JSON here" },
    ...MODEL_FLAGS,
  },
  async run(args, ctx) {
    const entries = parseSteerFlags((args.flags.steer as string[] | undefined) ?? []);
    if (entries.length === 0) {
      throw new UsageError("persona_vectors steer: give at least one --steer");
    }
    const prompts = await promptsFrom(args.flags, num(args, "questions"));
    const m = (await openModel(args, ctx))!;
    const results: { prompt: string; steered: string; unsteered?: string }[] = [];
    try {
      for (const [i, prompt] of prompts.entries()) {
        const messages: ChatMessage[] = [
          ...(str(args, "system")
            ? [{ role: "system" as const, content: str(args, "system")! }]
            : []),
          { role: "user", content: prompt },
        ];
        const req = {
          messages,
          max_tokens: num(args, "max-tokens") ?? 64,
          temperature: num(args, "temperature") ?? 0,
          seed: num(args, "seed") ?? 0,
          signal: ctx.signal,
        };
        const steered =
          (await m.chat.chat({ ...req, steering: entries })).choices[0].message.content;
        const unsteered = args.flags["no-baseline"]
          ? undefined
          : (await m.chat.chat(req)).choices[0].message.content;
        results.push({ prompt, steered, ...(unsteered !== undefined ? { unsteered } : {}) });
        ctx.log(`steered ${i + 1}/${prompts.length}`);
      }
    } finally {
      await m.close();
    }
    const out = str(args, "out");
    if (out) await writeJsonAtomic(out, { entries, results });
    emit(
      ctx,
      { entries, results, ...(out ? { out } : {}) },
      results.flatMap((r) => [
        `> ${r.prompt}`,
        `  steered:   ${JSON.stringify(r.steered)}`,
        ...(r.unsteered !== undefined ? [`  unsteered: ${JSON.stringify(r.unsteered)}`] : []),
      ]),
    );
    return 0;
  },
};
