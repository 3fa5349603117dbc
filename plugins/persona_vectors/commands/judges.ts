/**
 * The trait and coherence judges a command uses: a local judge model (full next-token
 * distribution restricted to number tokens) or an OpenAI-compatible endpoint (first-token
 * `top_logprobs`, spec B3).
 *
 * @module
 */

import type { CommandContext, ParsedArgs } from "../../../core/contracts/plugin.ts";
import { UsageError } from "../../../core/errors.ts";
import { COHERENCE_PROMPT } from "../judge_prompts.ts";
import { localNumberJudge } from "../local_judge.ts";
import { type CountingJudge, type JudgeMode, logprobJudge } from "../trait_judge.ts";
import type { TraitArtifact } from "../trait_artifact.ts";
import { traitBaseName } from "../trait_artifact.ts";
import { num, str } from "./common.ts";

/** Opened judges. */
export interface OpenedJudges {
  trait: CountingJudge;
  coherence: CountingJudge;
  /** What scores: `local:<dir>` or `openai:<url>`. */
  kind: string;
  close(): Promise<void>;
}

/**
 * Opens the judges from `--judge-model` or `--judge-base-url` (+ `--judge-api-model`).
 *
 * @example
 * ```ts ignore
 * import { openJudges } from "./judges.ts";
 * const j = await openJudges(args, ctx, artifact);
 * ```
 */
export async function openJudges(
  args: ParsedArgs,
  ctx: Pick<CommandContext, "log" | "models">,
  artifact: Pick<TraitArtifact, "trait" | "eval_prompt">,
): Promise<OpenedJudges> {
  const minMass = num(args, "min-mass");
  const name = traitBaseName(artifact.trait);
  const dir = str(args, "judge-model");
  const url = str(args, "judge-base-url");
  if (dir && url) throw new UsageError("pass --judge-model or --judge-base-url, not both");
  if (url) {
    const model = await ctx.models.chatModel(
      { kind: "url", baseURL: url.replace(/\/+$/, ""), model: str(args, "judge-api-model") },
      { apiKey: str(args, "api-key"), retries: 0 },
    );
    const mode = (str(args, "judge-mode") ?? "0_100") as JudgeMode;
    return {
      trait: logprobJudge({ name, template: artifact.eval_prompt, model, minMass, mode }),
      coherence: logprobJudge({ name: "coherence", template: COHERENCE_PROMPT, model, minMass }),
      kind: `openai:${url}`,
      close: () => Promise.resolve(),
    };
  }
  if (dir) {
    const engine = await ctx.models.with({ onProgress: (s) => ctx.log(`judge: ${s}`) })
      .openEngine(dir, { threads: num(args, "threads") });
    return {
      trait: localNumberJudge({ name, template: artifact.eval_prompt, engine, minMass }),
      coherence: localNumberJudge({
        name: "coherence",
        template: COHERENCE_PROMPT,
        engine,
        minMass,
      }),
      kind: `local:${dir}`,
      close: () => engine.close(),
    };
  }
  throw new UsageError(
    "give a judge: --judge-model <dir> (local, every 0-100 number scored as a token sequence) or --judge-base-url <url> " +
      "with --judge-api-model <name> (top_logprobs scoring)",
  );
}
