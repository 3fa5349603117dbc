/**
 * `dramatis generate`: generates text from a local model directory or hub id, optionally as a
 * persona, streaming tokens to a terminal and printing one JSON document with `--json`.
 *
 * @module
 */

import { PersonaSchema } from "../../contracts/persona.ts";
import type { ChatMessage } from "../../contracts/chat_model.ts";
import { UsageError, withCode } from "../../errors.ts";
import { Engine, type EngineGenerateOptions } from "../../model/engine.ts";
import { type Provider, PROVIDERS } from "../../runtime/providers.ts";
import { parseWeightFormat } from "../../model/quantize.ts";
import { printJson } from "../verb.ts";
import type { HostVerb } from "../verb.ts";

async function readPersona(path: string) {
  let raw: unknown;
  try {
    raw = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    throw withCode(
      new TypeError(`--persona ${path}: ${(error as Error).message}; pass a persona JSON file`),
      "E_CONFIG",
    );
  }
  const parsed = PersonaSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw withCode(
      new TypeError(
        `--persona ${path}: field '${issue.path.join(".")}': ${issue.message}`,
      ),
      "E_CONFIG",
    );
  }
  return parsed.data;
}

/**
 * Checks the numeric options before any model loads or graph is exported, so a typo costs
 * nothing (exit 2 with `E_USAGE`).
 */
function checkOptions(f: Record<string, unknown>): void {
  const rules: [string, (v: number) => boolean, string][] = [
    ["max-tokens", (v) => Number.isInteger(v) && v >= 1, "a whole number >= 1"],
    ["temperature", (v) => Number.isFinite(v) && v >= 0, "a number >= 0"],
    ["top-p", (v) => v > 0 && v <= 1, "a number in (0, 1]"],
    ["top-k", (v) => Number.isInteger(v) && v >= 0, "a whole number >= 0"],
    ["repetition-penalty", (v) => Number.isFinite(v) && v > 0, "a number > 0"],
    ["seed", (v) => Number.isInteger(v) && v >= 0, "a whole number >= 0"],
    ["threads", (v) => Number.isInteger(v) && v >= 1, "a whole number >= 1"],
  ];
  for (const [name, ok, what] of rules) {
    const v = f[name];
    if (v === undefined) continue;
    if (typeof v !== "number" || !ok(v)) {
      throw new UsageError(`generate: --${name} is ${v}; pass ${what}`);
    }
  }
}

/** The `generate` verb. */
export const generateVerb: HostVerb = {
  name: "generate",
  description: "Generate text from a model (directory or hub id), optionally as a persona. The " +
    "prompt is sent as a user message through the model's chat template unless --raw is given.",
  flags: {
    model: { type: "string", required: true, description: "model directory or hub id" },
    prompt: { type: "string", required: true, description: "the prompt text" },
    persona: { type: "string", description: "a persona JSON file (system prompt, identities)" },
    system: { type: "string", description: "a system prompt (overrides the persona's)" },
    raw: { type: "boolean", description: "feed the prompt as plain text, without chat template" },
    "max-tokens": { type: "number", description: "most new tokens", default: 64 },
    temperature: { type: "number", description: "sampling temperature (0 = greedy)", default: 0.7 },
    "top-p": { type: "number", description: "nucleus sampling mass", default: 1 },
    "top-k": { type: "number", description: "keep the k most likely tokens (0 = off)", default: 0 },
    "repetition-penalty": { type: "number", description: "HF repetition penalty", default: 1 },
    seed: { type: "number", description: "seed of every random choice", default: 0 },
    stop: { type: "string", multiple: true, description: "stop string (repeatable)" },
    provider: {
      type: "string",
      description: "execution provider",
      choices: PROVIDERS,
      default: "cpu",
    },
    threads: { type: "number", description: "threads per op (default: one per core)" },
    dtype: {
      type: "string",
      description: "weight storage: f32, f16, bf16, int8, int4 (int4:128 / int8:128 for blocks " +
        "of 128; default DRAMATIS_DTYPE or f32)",
    },
  },
  async run(args, ctx) {
    const f = args.flags;
    checkOptions(f);
    if (f.dtype !== undefined) parseWeightFormat(f.dtype as string, "generate: --dtype");
    const persona = typeof f.persona === "string" ? await readPersona(f.persona) : undefined;
    const engine = await Engine.load(f.model as string, {
      provider: f.provider as Provider,
      threads: f.threads as number | undefined,
      dtype: f.dtype as string | undefined,
      onProgress: ctx.json ? undefined : (step) => ctx.log(step),
    });
    try {
      const system = (f.system as string | undefined) ?? persona?.system_prompt;
      const messages: ChatMessage[] = [];
      if (system) messages.push({ role: "system", content: system });
      messages.push({ role: "user", content: f.prompt as string });
      const options: EngineGenerateOptions = {
        maxNewTokens: f["max-tokens"] as number,
        temperature: f.temperature as number,
        topP: f["top-p"] as number,
        topK: f["top-k"] as number,
        repetitionPenalty: f["repetition-penalty"] as number,
        seed: f.seed as number,
        stop: f.stop as string[] | undefined,
        signal: ctx.signal,
      };
      if (persona?.identities.length) options.identities = persona.identities;
      const input = f.raw ? f.prompt as string : messages;
      // Never run past the model's positions silently: refuse a prompt that fills them, and say
      // so when the budget would.
      const window = engine.config.maxPositionEmbeddings;
      const promptTokens = engine.encode(input)[0].length;
      if (promptTokens >= window) {
        throw new UsageError(
          `generate: the prompt takes ${promptTokens} tokens, and this model's context is ${window}; ` +
            "shorten the prompt",
        );
      }
      if (promptTokens + options.maxNewTokens! > window) {
        ctx.log(
          `generate: warning: ${promptTokens} prompt tokens + --max-tokens ${options.maxNewTokens} ` +
            `pass the model's context of ${window}; generation stops at ${
              window - promptTokens
            } new tokens`,
        );
        options.maxNewTokens = window - promptTokens;
      }
      const live = !ctx.json && Deno.stdout.isTerminal();
      const encoder = new TextEncoder();
      let result;
      for await (const ev of engine.stream(input, options)) {
        if (ev.type === "delta" && live) Deno.stdout.writeSync(encoder.encode(ev.text));
        if (ev.type === "finish" && live && ev.text) Deno.stdout.writeSync(encoder.encode(ev.text));
        if (ev.type === "done") result = ev.result;
      }
      const c = result!.completions[0];
      const out = {
        model: f.model,
        text: c.text,
        token_ids: c.tokens,
        finish_reason: c.finishReason,
        prompt_tokens: result!.promptTokens[0].length,
        completion_tokens: c.tokens.length,
        tokens_per_second: result!.stats.decodeTokensPerSecond,
        prefill_tokens_per_second: result!.stats.prefillTokensPerSecond,
        seed: result!.seed,
        ...(c.notice ? { notice: c.notice } : {}),
      };
      if (c.notice) ctx.log(`note: ${c.notice}`);
      if (ctx.json) printJson(out);
      else {
        if (!live) console.log(c.text);
        else console.log();
        ctx.log(
          `${c.tokens.length} tokens, ${out.tokens_per_second.toFixed(1)} tok/s decode, ` +
            `finish: ${c.finishReason}, seed ${out.seed}`,
        );
      }
      return 0;
    } finally {
      await engine.close();
    }
  },
};
