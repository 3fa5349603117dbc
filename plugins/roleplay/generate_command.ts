/**
 * `dramatis roleplay generate`: simulated-user dialogues between any two models, written in the
 * reference layout, resumable and cached.
 *
 * @module
 */

import { join } from "node:path";
import { CachedChatModel } from "../../core/chat/cached_chat_model.ts";
import type { CommandContext, ParsedArgs, PluginCommand } from "../../core/contracts/plugin.ts";
import { UsageError, withCode } from "../../core/errors.ts";
import type { PluginRegistry } from "../../core/plugin/registry.ts";
import { generateDialogs } from "./generate_dialogs.ts";
import { loadGoals } from "./goals.ts";
import { type RoleplayOptions, roleplayOptionsSchema } from "./options.ts";
import {
  fixedPersonas,
  makePersona,
  type PersonaFeatures,
  randomPersonas,
  type RoleplayPersona,
} from "./persona.ts";
import {
  MODEL_REF_SYNTAX as MODEL_SPEC_SYNTAX,
  parseModelRef as parseModelSpec,
} from "../../core/services/model_ref.ts";
import { modelShortName } from "./model_spec.ts";
import { loadUpstreamConfig } from "./upstream_config.ts";

/** The host extends the command context with its registry and `--plugin-options`. */
export type RoleplayCommandContext = CommandContext & {
  registry?: PluginRegistry;
  pluginOptions?: Map<string, unknown>;
};

/** What `<model>` flags accept, repeated in each flag's help. */
export const MODEL_SPEC_HELP: string = MODEL_SPEC_SYNTAX;

/** The plugin options given with `--plugin-options roleplay=JSON`, else the defaults. */
export function baseOptions(ctx: RoleplayCommandContext): RoleplayOptions {
  const given = ctx.pluginOptions?.get("roleplay");
  return roleplayOptionsSchema.parse(given ?? {});
}

/** Reads `--persona-features`: a JSON file or inline JSON, one feature object or an array. */
export async function readPersonaFeatures(value: string): Promise<RoleplayPersona[]> {
  const trimmed = value.trim();
  let text = trimmed;
  if (!trimmed.startsWith("[") && !trimmed.startsWith("{")) {
    try {
      text = await Deno.readTextFile(trimmed);
    } catch (error) {
      throw new UsageError(
        `--persona-features '${value}' is neither inline JSON nor a readable file ` +
          `(${(error as Error).message}); pass a JSON file or '[{"age": …}]'`,
      );
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `--persona-features: not valid JSON (${(error as Error).message}); write one ` +
        "{age, race, gender, education, native_english} object or an array of them",
    );
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  if (list.length === 0) throw new UsageError("--persona-features holds an empty array");
  return list.map((f) => makePersona(f as PersonaFeatures));
}

function positiveInt(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = value as number;
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`--${name} is ${n}; pass a whole number >= 1`);
  }
  return n;
}

/** The `generate` command. */
export const generateCommand: PluginCommand = {
  name: "generate",
  description: "Generate goal-oriented dialogues between a simulated user (the inquirer, playing " +
    "a persona with a goal) and a chatbot (the responder): every goal × persona pair, at most " +
    "--turns turns each. Writes <out>/dialogs/<inquirer>/<run id>/<seed>.jsonl (one record per " +
    "dialogue), trace.jsonl (per-turn events) and metrics.json (counters) in the run folder. " +
    "Every model call goes through a SQLite cache and finished dialogues are skipped, so a rerun " +
    "resumes and makes no repeated model calls. Further options (stopToken, regenerateTries, " +
    "context lengths, …) come from --plugin-options roleplay=JSON; flags override them.",
  flags: {
    inquirer: { type: "string", required: true, description: `simulated user: ${MODEL_SPEC_HELP}` },
    responder: {
      type: "string",
      required: true,
      description: "chatbot under test: a model spec of the same forms as --inquirer",
    },
    out: { type: "string", required: true, description: "output root folder" },
    config: {
      type: "string",
      description: "the upstream LLM Roleplay action config (configs/action_config/" +
        "dialogue_generator.yaml): goals, personas (fixed list or features), num_turns, stop " +
        "token and seed from it; flags given here override it",
    },
    goals: {
      type: "string",
      description: "goals JSONL file, one {instruction} (optionally id, kind) per line (default: " +
        "the 30 shipped goals)",
    },
    samples: { type: "number", description: "use only the first n goals (default: all)" },
    personas: {
      type: "number",
      description: "draw n random personas, seeded by --seed (default: the 20 fixed personas)",
    },
    "persona-features": {
      type: "string",
      description: "personas from features: a JSON file or inline JSON, one {age, race, gender, " +
        "education, native_english} object or an array of them",
    },
    turns: { type: "number", description: "most turns per dialogue (default: 12)" },
    seed: {
      type: "number",
      description: "run seed: random personas, per-dialogue request seeds, output file name " +
        "(default: 5)",
    },
    cache: {
      type: "string",
      description: "SQLite response cache for every model call (default: <out>/cache.sqlite)",
    },
    "run-id": {
      type: "string",
      description: "run folder name (default: a hash of the models, goals, personas, options " +
        "and seed, so the same command resumes the same run)",
    },
    concurrency: { type: "number", default: 1, description: "dialogues run at the same time" },
    "inquirer-max-tokens": {
      type: "number",
      description: "max_tokens of each inquirer reply (default: 1000)",
    },
    "responder-max-tokens": {
      type: "number",
      description: "max_tokens of each responder reply (default: 4000)",
    },
    "inquirer-temperature": {
      type: "number",
      description: "inquirer sampling temperature (default: the model's own)",
    },
    "responder-temperature": {
      type: "number",
      description: "responder sampling temperature (default: the model's own)",
    },
  },
  run: (args, ctx) => runGenerate(args, ctx as RoleplayCommandContext),
};

async function runGenerate(args: ParsedArgs, ctx: RoleplayCommandContext): Promise<number> {
  const f = args.flags;
  if (args.positionals.length) {
    throw new UsageError(
      `roleplay generate takes no positional arguments; got ${args.positionals.join(" ")}`,
    );
  }
  const inquirerSpec = f.inquirer as string;
  const responderSpec = f.responder as string;
  parseModelSpec(inquirerSpec);
  parseModelSpec(responderSpec);
  if (f.personas !== undefined && f["persona-features"] !== undefined) {
    throw new UsageError("give --personas <n> or --persona-features <json>, not both");
  }
  const base = baseOptions(ctx);
  const raw: Record<string, unknown> = { ...base };
  const upstream = f.config !== undefined
    ? await loadUpstreamConfig(f.config as string)
    : undefined;
  if (upstream) {
    if (f.goals !== undefined) throw new UsageError("give --config or --goals, not both");
    if (upstream.numTurns !== undefined) raw.numTurns = upstream.numTurns;
    if (upstream.stopToken !== undefined) raw.stopToken = upstream.stopToken;
    if (upstream.seed !== undefined) raw.seed = upstream.seed;
    ctx.log(
      `${upstream.path}: ${upstream.goals.length} goals, ${upstream.personas.length} ` +
        `${upstream.personaMode} personas, ${upstream.numTurns ?? "default"} turns, stop token ` +
        `${upstream.stopToken ?? "default"}, seed ${upstream.seed ?? "default"}`,
    );
  }
  if (f.turns !== undefined) raw.numTurns = positiveInt("turns", f.turns);
  if (f.seed !== undefined) raw.seed = f.seed;
  if (f.goals !== undefined) raw.goals = f.goals;
  if (f.personas !== undefined) {
    raw.personas = { mode: "random", count: positiveInt("personas", f.personas) };
  }
  if (f["inquirer-max-tokens"] !== undefined) {
    raw.inquirerMaxTokens = positiveInt("inquirer-max-tokens", f["inquirer-max-tokens"]);
  }
  if (f["responder-max-tokens"] !== undefined) {
    raw.responderMaxTokens = positiveInt("responder-max-tokens", f["responder-max-tokens"]);
  }
  if (f["inquirer-temperature"] !== undefined) raw.inquirerTemperature = f["inquirer-temperature"];
  if (f["responder-temperature"] !== undefined) {
    raw.responderTemperature = f["responder-temperature"];
  }
  const parsed = roleplayOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw withCode(
      new RangeError(
        `roleplay option '${issue.path.join(".")}' is ${
          JSON.stringify((raw as Record<string, unknown>)[String(issue.path[0])])
        }: ${issue.message}`,
      ),
      "E_USAGE",
    );
  }
  const options = parsed.data;

  let goals = upstream ? upstream.goals : await loadGoals(options.goals);
  const samples = positiveInt("samples", f.samples);
  if (samples !== undefined) goals = goals.slice(0, samples);
  const personas = f["persona-features"] !== undefined
    ? await readPersonaFeatures(f["persona-features"] as string)
    : options.personas.mode === "random"
    ? randomPersonas(options.personas.count, options.seed)
    : upstream
    ? upstream.personas
    : fixedPersonas();

  const out = f.out as string;
  const cachePath = (f.cache as string | undefined) ?? join(out, "cache.sqlite");
  // The host configured the hub from --provider, --threads and --dtype (its run flags).
  const models = ctx.models;
  const opened: CachedChatModel[] = [];
  try {
    const inquirer = new CachedChatModel(await models.chatModel(inquirerSpec), {
      path: cachePath,
    });
    opened.push(inquirer);
    const responder = new CachedChatModel(await models.chatModel(responderSpec), {
      path: cachePath,
    });
    opened.push(responder);
    ctx.log(
      `roleplay: ${goals.length} goals × ${personas.length} personas, at most ` +
        `${options.numTurns} turns; inquirer ${inquirerSpec}, responder ${responderSpec}`,
    );
    const result = await generateDialogs({
      inquirer,
      responder,
      inquirerName: modelShortName(inquirerSpec),
      inquirerLabel: inquirerSpec,
      responderLabel: responderSpec,
      goals,
      personas,
      options,
      out,
      runId: f["run-id"] as string | undefined,
      concurrency: positiveInt("concurrency", f.concurrency),
      signal: ctx.signal,
      onProgress: (p) =>
        ctx.log(
          `[${p.done}/${p.total}] ${p.id}: ${
            p.skipped ? "already written" : `${p.end_reason}, ${p.num_turns} turns`
          }`,
        ),
    });
    const calls = {
      inquirer: inquirer.stats,
      responder: responder.stats,
      model_calls: inquirer.stats.misses + responder.stats.misses,
    };
    const summary = {
      run_id: result.runId,
      run_dir: result.runDir,
      dialogs_path: result.dialogsPath,
      metrics_path: result.metricsPath,
      trace_path: result.tracePath,
      cache_path: cachePath,
      planned: result.metrics.planned,
      written: result.written,
      skipped: result.skipped,
      dialogues: result.metrics.dialogues,
      mean_turns: result.metrics.mean_turns,
      end_reasons: result.metrics.end_reasons,
      counters: result.metrics.counters,
      cache: calls,
    };
    if (ctx.json) console.log(JSON.stringify(summary, null, 2));
    else {
      console.log(`dialogues: ${result.dialogsPath}`);
      console.log(
        `${result.written} written, ${result.skipped} already there; ` +
          `mean ${result.metrics.mean_turns.toFixed(2)} turns; ${calls.model_calls} model calls`,
      );
      console.log(`end reasons: ${JSON.stringify(result.metrics.end_reasons)}`);
      console.log(`counters: ${JSON.stringify(result.metrics.counters)}`);
    }
    return 0;
  } finally {
    for (const m of opened) m.close();
  }
}
