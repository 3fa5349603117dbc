/**
 * `dramatis roleplay judge`: the indistinguishability judge over dialogue files, aggregated per
 * inquirer model.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { CachedChatModel } from "../../core/chat/cached_chat_model.ts";
import type { ParsedArgs, PluginCommand } from "../../core/contracts/plugin.ts";
import { UsageError } from "../../core/errors.ts";
import { writeFileAtomic } from "../../core/util/atomic.ts";
import { type Provider, PROVIDERS } from "../../core/runtime/providers.ts";
import { baseOptions, MODEL_SPEC_HELP, type RoleplayCommandContext } from "./generate_command.ts";
import { judgeDialogs } from "./judge_dialogs.ts";
import { parseModelRef } from "../../core/services/model_ref.ts";

/** The `judge` command. */
export const judgeCommand: PluginCommand = {
  name: "judge",
  description: "Ask a judge model, for every dialogue, whether the user side was written by a " +
    "person or by a simulated user (with rationale and confidence), and print the " +
    "indistinguishability rate per inquirer model: the share of dialogues judged human. A " +
    "verdict the judge cannot produce is counted as failed, never as simulated. Calls are cached.",
  flags: {
    dialogs: {
      type: "string",
      multiple: true,
      required: true,
      description: "a dialogue JSONL file as generate writes it (the inquirer is the " +
        "record's inquirer field, else the <inquirer> folder of dialogs/<inquirer>/<run>/)",
    },
    judge: { type: "string", required: true, description: `judge model: ${MODEL_SPEC_HELP}` },
    out: {
      type: "string",
      description: "write one verdict per dialogue to this JSONL file (default: none)",
    },
    cache: {
      type: "string",
      description: "SQLite response cache (default: judge_cache.sqlite beside the first --dialogs)",
    },
    seed: { type: "number", default: 0, description: "seed of every judge request" },
    "max-retries": {
      type: "number",
      description: "retries after an unparsable verdict (default: 2, or judgeMaxRetries)",
    },
    "max-tokens": {
      type: "number",
      description: "max_tokens of each verdict (default: 400, or judgeMaxTokens)",
    },
    provider: {
      type: "string",
      choices: PROVIDERS,
      default: "cpu",
      description: "execution provider of a local judge model",
    },
    threads: { type: "number", description: "threads per op of a local judge model" },
  },
  run: (args, ctx) => runJudge(args, ctx as RoleplayCommandContext),
};

async function runJudge(args: ParsedArgs, ctx: RoleplayCommandContext): Promise<number> {
  const f = args.flags;
  const files = f.dialogs as string[];
  if (args.positionals.length) {
    throw new UsageError(
      `roleplay judge takes no positional arguments; got ${args.positionals.join(" ")}`,
    );
  }
  const spec = f.judge as string;
  parseModelRef(spec);
  const options = baseOptions(ctx);
  const cachePath = (f.cache as string | undefined) ??
    join(dirname(files[0]), "judge_cache.sqlite");
  const model = new CachedChatModel(
    await ctx.models.with({
      provider: f.provider as Provider | undefined,
      threads: f.threads as number | undefined,
    }).chatModel(spec),
    { path: cachePath },
  );
  try {
    const { judged, stats } = await judgeDialogs({
      files,
      model,
      seed: f.seed as number,
      maxRetries: (f["max-retries"] as number | undefined) ?? options.judgeMaxRetries,
      maxTokens: (f["max-tokens"] as number | undefined) ?? options.judgeMaxTokens,
      signal: ctx.signal,
      onProgress: (done, total, j) =>
        ctx.log(
          `[${done}/${total}] ${j.id ?? `${j.file}#${j.index}`}: ${
            j.verdict.value
              ? j.verdict.value.verdict
              : `failed (${j.verdict.reason.replace(/\s+/g, " ").slice(0, 160)})`
          }`,
        ),
    });
    if (typeof f.out === "string") {
      await writeFileAtomic(f.out, judged.map((j) => JSON.stringify(j) + "\n").join(""));
    }
    const summary = {
      judge: spec,
      dialogues: judged.length,
      stats,
      verdicts_path: typeof f.out === "string" ? f.out : null,
      cache_path: cachePath,
      model_calls: model.stats.misses,
    };
    if (ctx.json) console.log(JSON.stringify(summary, null, 2));
    else {
      console.log("inquirer\tn\tfailed\tjudged_human\trate\tmean_confidence");
      for (const s of stats) {
        console.log(
          [
            s.inquirer,
            s.n,
            s.failed,
            s.judged_human,
            s.indistinguishability_rate?.toFixed(3) ?? "n/a",
            s.mean_confidence?.toFixed(3) ?? "n/a",
          ].join("\t"),
        );
      }
    }
    return 0;
  } finally {
    model.close();
  }
}
