/**
 * `persona_vectors combine`: linear-combination steering (spec B9.5). Writes `Σ cᵢ vᵢ` as one
 * vector file and, with prompts, generates with all entries at once (same-layer entries add up).
 *
 * @module
 */

import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { UsageError } from "../../../core/errors.ts";
import { combineVectors } from "../geometry.ts";
import { loadVectorFile, saveVectorFile } from "../vector_io.ts";
import { emit, MODEL_FLAGS, num, openModel, str } from "./common.ts";
import { promptsFrom } from "./steer.ts";

/**
 * The command.
 *
 * @example
 * ```sh
 * deno task dramatis persona_vectors combine --vector opt.safetensors:1.5 --vector humor.safetensors:1 \
 *   --layer 20 --out runs/opt_humor.safetensors --model ./models/qwen --prompt "Tell me about Mondays."
 * ```
 */
export const combineCommand: PluginCommand = {
  name: "combine",
  description:
    "Linear combination of vectors: save Σ cᵢvᵢ and optionally steer with all of them at once.",
  flags: {
    vector: {
      type: "string",
      multiple: true,
      description: "path:coefficient (repeatable)",
      required: true,
    },
    out: { type: "string", description: "write the combined vector here" },
    layer: {
      type: "number",
      description: "steering layer for --prompt (hidden-state index)",
      default: 20,
    },
    positions: {
      type: "string",
      description: "position mode",
      choices: ["all", "prompt", "response"],
      default: "response",
    },
    prompt: { type: "string", multiple: true, description: "prompts to steer (repeatable)" },
    trait: { type: "string", description: "use this trait's eval questions as prompts" },
    questions: { type: "number", description: "how many eval questions with --trait" },
    "max-tokens": { type: "number", description: "new tokens", default: 64 },
    seed: { type: "number", description: "seed", default: 0 },
    ...MODEL_FLAGS,
  },
  async run(args, ctx) {
    const specs = ((args.flags.vector as string[] | undefined) ?? []).map((s) => {
      const i = s.lastIndexOf(":");
      const coefficient = Number(s.slice(i + 1));
      if (i <= 0 || !Number.isFinite(coefficient)) {
        throw new UsageError(`--vector "${s}" must look like <path>:<coefficient>`);
      }
      return { path: s.slice(0, i), coefficient };
    });
    if (specs.length === 0) {
      throw new UsageError("persona_vectors combine: give --vector path:coefficient");
    }
    const loaded = [];
    for (const s of specs) {
      loaded.push({ vector: await loadVectorFile(s.path), coefficient: s.coefficient });
    }
    const combined = combineVectors(loaded);
    const out = str(args, "out");
    if (out) {
      await saveVectorFile(out, combined, {
        model: "combined",
        trait: specs.map((s) => `${s.coefficient}*${s.path}`).join(" + "),
        type: "linear_combination",
        n_pos: 0,
        n_neg: 0,
        threshold: 0,
      });
    }
    const results: { prompt: string; steered: string }[] = [];
    const layer = num(args, "layer") ?? 20;
    if (args.flags.prompt || args.flags.trait) {
      const prompts = await promptsFrom(args.flags, num(args, "questions"));
      const m = (await openModel(args, ctx))!;
      const positions = (str(args, "positions") ?? "response") as "all" | "prompt" | "response";
      try {
        for (const prompt of prompts) {
          const r = await m.chat.chat({
            messages: [{ role: "user", content: prompt }],
            max_tokens: num(args, "max-tokens") ?? 64,
            temperature: 0,
            seed: num(args, "seed") ?? 0,
            steering: specs.map((s) => ({
              vector: s.path,
              coefficient: s.coefficient,
              layer,
              positions,
            })),
            signal: ctx.signal,
          });
          results.push({ prompt, steered: r.choices[0].message.content });
        }
      } finally {
        await m.close();
      }
    }
    emit(ctx, { out, shape: [combined.rows, combined.cols], layer, results }, [
      ...(out ? [`wrote Σ cᵢvᵢ of ${specs.length} vectors to ${out}`] : []),
      ...results.map((r) => `> ${r.prompt}\n  ${JSON.stringify(r.steered)}`),
    ]);
    return 0;
  },
};
