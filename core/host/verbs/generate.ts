/**
 * `dramatis generate`: generates text from a model reference (local directory, hub id,
 * `openai:<name>`, `http(s)://…#<name>`), optionally as a persona — played exactly as `serve`
 * plays it (system prompt, adapters, steering, identities, plugin backend), since both build it
 * through the model hub. Streams tokens to a terminal; prints one JSON document with `--json`.
 *
 * @module
 */

import type { ChatMessage, ChatRequest, ChatResponse } from "../../contracts/chat_model.ts";
import type { Persona } from "../../contracts/persona.ts";
import { UsageError } from "../../errors.ts";
import type { Engine, EngineGenerateOptions } from "../../model/engine.ts";
import { buildPersonaMessages } from "../../persona/persona_messages.ts";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { personaNearFile, readPersonaFile } from "../../services/model_hub.ts";
import { MODEL_REF_SYNTAX, parseModelRef } from "../../services/model_ref.ts";
import { registrySteering } from "../../services/registry_steering.ts";
import { printJson } from "../verb.ts";
import type { HostContext, HostVerb } from "../verb.ts";

/** What one generation produced, whatever path it took. */
interface Generated {
  text: string;
  tokenIds: number[] | null;
  finishReason: string;
  promptTokens: number;
  completionTokens: number;
  decodeTps: number | null;
  prefillTps: number | null;
  seed: number | null;
}

const num = (v: unknown) => (typeof v === "number" ? v : null);

function fromResponse(r: ChatResponse): Generated {
  const m = r.metadata ?? {};
  const ids = (m.token_ids as number[][] | undefined)?.[0];
  return {
    text: r.choices[0]?.message.content ?? "",
    tokenIds: ids ?? null,
    finishReason: r.choices[0]?.finish_reason ?? "stop",
    promptTokens: r.usage.prompt_tokens,
    completionTokens: r.usage.completion_tokens,
    decodeTps: num(m.decode_tokens_per_second),
    prefillTps: num(m.prefill_tokens_per_second),
    seed: num(m.seed),
  };
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

/**
 * Never runs past the model's positions silently: refuses a prompt that fills them, and says so
 * (returning the smaller budget) when `maxTokens` would.
 */
function fitWindow(
  engine: Engine,
  input: string | ChatMessage[],
  maxTokens: number,
  ctx: HostContext,
): number {
  const window = engine.config.maxPositionEmbeddings;
  const promptTokens = engine.encode(input)[0].length;
  if (promptTokens >= window) {
    throw new UsageError(
      `generate: the prompt takes ${promptTokens} tokens, and this model's context is ${window}; ` +
        "shorten the prompt",
    );
  }
  if (promptTokens + maxTokens > window) {
    ctx.log(
      `generate: warning: ${promptTokens} prompt tokens + --max-tokens ${maxTokens} ` +
        `pass the model's context of ${window}; generation stops at ${
          window - promptTokens
        } new tokens`,
    );
    return window - promptTokens;
  }
  return maxTokens;
}

/** Plain text through the engine, without a chat template (`--raw`). */
async function generateRaw(
  ctx: HostContext,
  model: string,
  persona: Persona | undefined,
  prompt: string,
  options: EngineGenerateOptions,
  live: boolean,
): Promise<Generated> {
  const ref = parseModelRef(model);
  if (ref.kind !== "local") {
    throw new UsageError(`generate --raw needs a local model, not ${model}; drop --raw`);
  }
  const engine = await ctx.models.engine(ref.path, { adapters: persona?.adapters });
  options.maxNewTokens = fitWindow(engine, prompt, options.maxNewTokens!, ctx);
  if (persona?.identities.length) options.extensions = { identities: persona.identities };
  if (persona?.steering.length) {
    const { numLayers, hiddenSize } = engine.config;
    options.edits = await registrySteering(ctx.registry)(persona.steering, {
      numLayers,
      hiddenSize,
    });
  }
  const encoder = new TextEncoder();
  let result;
  for await (const ev of engine.stream(prompt, options)) {
    if (ev.type === "delta" && live) Deno.stdout.writeSync(encoder.encode(ev.text));
    if (ev.type === "finish" && live && ev.text) Deno.stdout.writeSync(encoder.encode(ev.text));
    if (ev.type === "done") result = ev.result;
  }
  const c = result!.completions[0];
  return {
    text: c.text,
    tokenIds: c.tokens,
    finishReason: c.finishReason,
    promptTokens: result!.promptTokens[0].length,
    completionTokens: c.tokens.length,
    decodeTps: result!.stats.decodeTokensPerSecond,
    prefillTps: result!.stats.prefillTokensPerSecond,
    seed: result!.seed,
  };
}

/** The `generate` verb. */
export const generateVerb: HostVerb = {
  name: "generate",
  description: "Generate text from a model, optionally as a persona (played as serve plays it: " +
    "prompt, adapters, steering, identities). The prompt is sent as a user message through the " +
    "model's chat template unless --raw is given.",
  flags: {
    model: {
      type: "string",
      description: `the model: ${MODEL_REF_SYNTAX} (default: the persona's model)`,
    },
    prompt: { type: "string", required: true, description: "the prompt text" },
    persona: {
      type: "string",
      description: "a persona JSON file (system prompt, adapters, steering, identities, backend)",
    },
    system: { type: "string", description: "a system prompt (overrides the persona's)" },
    raw: { type: "boolean", description: "feed the prompt as plain text, without chat template" },
    "max-tokens": { type: "number", description: "most new tokens", default: 64 },
    temperature: { type: "number", description: "sampling temperature (0 = greedy)", default: 0.7 },
    "top-p": { type: "number", description: "nucleus sampling mass", default: 1 },
    "top-k": { type: "number", description: "keep the k most likely tokens (0 = off)", default: 0 },
    "repetition-penalty": { type: "number", description: "HF repetition penalty", default: 1 },
    seed: { type: "number", description: "seed of every random choice", default: 0 },
    stop: { type: "string", multiple: true, description: "stop string (repeatable)" },
  },
  async run(args, ctx) {
    const f = args.flags;
    checkOptions(f);
    const file = typeof f.persona === "string" ? f.persona : undefined;
    let persona = file ? personaNearFile(await readPersonaFile(file), file) : undefined;
    const model = (f.model as string | undefined) ?? persona?.model;
    if (!model) {
      throw new UsageError("generate needs --model <model>, or --persona <file> with a model");
    }
    if (persona) {
      persona = { ...persona, model };
      if (typeof f.system === "string") persona = { ...persona, system_prompt: f.system };
    }
    const live = !ctx.json && Deno.stdout.isTerminal();
    if (!ctx.json) ctx.models = ctx.models.with({ onProgress: (step) => ctx.log(step) });
    const stop = f.stop as string[] | undefined;
    let out: Generated;
    if (f.raw) {
      out = await generateRaw(ctx, model, persona, f.prompt as string, {
        maxNewTokens: f["max-tokens"] as number,
        temperature: f.temperature as number,
        topP: f["top-p"] as number,
        topK: f["top-k"] as number,
        repetitionPenalty: f["repetition-penalty"] as number,
        seed: f.seed as number,
        stop,
        signal: ctx.signal,
      }, live);
    } else {
      const messages: ChatMessage[] = [];
      if (!persona && typeof f.system === "string") {
        messages.push({ role: "system", content: f.system });
      }
      messages.push({ role: "user", content: f.prompt as string });
      const request: ChatRequest = {
        messages,
        max_tokens: f["max-tokens"] as number,
        temperature: f.temperature as number,
        top_p: f["top-p"] as number,
        top_k: f["top-k"] as number,
        repetition_penalty: f["repetition-penalty"] as number,
        seed: f.seed as number,
        signal: ctx.signal,
      };
      if (stop?.length) request.stop = stop;
      // A local model's context bounds the budget (the persona's own messages included).
      const ref = parseModelRef(model);
      if (ref.kind === "local") {
        const path = persona ? model : existsSync(ref.path) ? resolve(ref.path) : ref.path;
        const engine = await ctx.models.engine(path, { adapters: persona?.adapters });
        const sent = persona ? buildPersonaMessages(persona, messages) : messages;
        request.max_tokens = fitWindow(engine, sent, request.max_tokens!, ctx);
      }
      const chat = persona
        ? await ctx.models.personaModel(persona)
        : await ctx.models.chatModel(model, { id: model });
      if (live) {
        const encoder = new TextEncoder();
        let text = "", finish = "stop";
        let usage = { prompt_tokens: 0, completion_tokens: 0 };
        let meta: Record<string, unknown> = {};
        for await (const chunk of chat.stream(request)) {
          const c = chunk.choices[0];
          if (c?.delta.content) {
            text += c.delta.content;
            Deno.stdout.writeSync(encoder.encode(c.delta.content));
          }
          if (c?.finish_reason) finish = c.finish_reason;
          if (chunk.usage) usage = chunk.usage;
          if (chunk.metadata) meta = chunk.metadata;
        }
        out = fromResponse({
          id: "",
          model,
          created: 0,
          choices: [{
            index: 0,
            message: { role: "assistant", content: text },
            finish_reason: finish as "stop",
          }],
          usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
          metadata: meta,
        });
      } else {
        out = fromResponse(await chat.chat(request));
      }
    }
    const doc = {
      model,
      ...(file ? { persona: file } : {}),
      text: out.text,
      token_ids: out.tokenIds,
      finish_reason: out.finishReason,
      prompt_tokens: out.promptTokens,
      completion_tokens: out.completionTokens,
      tokens_per_second: out.decodeTps,
      prefill_tokens_per_second: out.prefillTps,
      seed: out.seed,
    };
    if (ctx.json) printJson(doc);
    else {
      if (!live) console.log(out.text);
      else console.log();
      ctx.log(
        `${out.completionTokens} tokens` +
          (out.decodeTps === null ? "" : `, ${out.decodeTps.toFixed(1)} tok/s decode`) +
          `, finish: ${out.finishReason}` + (out.seed === null ? "" : `, seed ${out.seed}`),
      );
    }
    return 0;
  },
};
