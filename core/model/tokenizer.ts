/**
 * Tokenizer and chat template of a model directory, loaded offline with transformers.js
 * (`AutoTokenizer.from_pretrained` on an absolute path, remote loading off). Because
 * `AutoTokenizer` does not read `chat_template.jinja`, that file is read here and passed
 * explicitly when `tokenizer_config.json` has no `chat_template`.
 *
 * @module
 */

import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { AutoTokenizer, env, type PreTrainedTokenizer } from "@huggingface/transformers";
import { withCode } from "../errors.ts";
import { readOptionalJson } from "../util/fs.ts";

/** One chat message as chat templates read it. */
export interface ChatMessage {
  /** "system", "user", "assistant" or a template-specific role. */
  role: string;
  /** The message text. */
  content: string;
}

/** Options of {@link ModelTokenizer.applyChatTemplate}. */
export interface ChatTemplateOptions {
  /** Append the assistant header so the model answers next. Default false. */
  addGenerationPrompt?: boolean;
  /** A template to use instead of the model's own. */
  chatTemplate?: string;
  /** Extra template variables (e.g. `{ enable_thinking: false }`). */
  variables?: Record<string, unknown>;
}

let envConfigured = false;

/** Points transformers.js at local files only, with its cache outside node_modules. */
function configureEnv(): void {
  if (envConfigured) return;
  env.allowRemoteModels = false;
  const root = Deno.env.get("DRAMATIS_CACHE") ?? join(homedir(), ".cache", "dramatis");
  env.cacheDir = join(root, "transformers");
  envConfigured = true;
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  return (await readOptionalJson(path, "E_TOKENIZER") ?? null) as Record<string, unknown> | null;
}

async function readText(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

function ids(value: unknown): number[] {
  if (typeof value === "number") return [value];
  if (Array.isArray(value)) return value.filter((v): v is number => typeof v === "number");
  return [];
}

/**
 * A model's tokenizer with its special ids and chat template.
 *
 * @example
 * ```ts
 * import { loadTokenizer } from "./tokenizer.ts";
 * const tok = await loadTokenizer("/models/tiny");
 * const prompt = tok.applyChatTemplate([{ role: "user", content: "Hi" }], {
 *   addGenerationPrompt: true,
 * });
 * const ids = tok.encode(prompt, { addSpecialTokens: false });
 * console.log(tok.decode(ids), tok.eosTokenIds);
 * ```
 */
export class ModelTokenizer {
  #tok: PreTrainedTokenizer;
  #idToToken: string[];
  #chatTemplate: string | null;
  #dir: string;
  /** Token ids that end generation (generation_config, config.json and tokenizer eos, unique). */
  readonly eosTokenIds: number[];
  /** The padding id, or null when the model defines none (pad with an eos id then). */
  readonly padTokenId: number | null;
  /** The beginning-of-sequence id, or null. */
  readonly bosTokenId: number | null;
  /** Number of token ids the tokenizer knows (BPE tokens + added tokens). */
  readonly vocabSize: number;
  /** Ids of all special tokens. */
  readonly specialTokenIds: number[];

  /** Wraps a loaded transformers.js tokenizer; use {@link loadTokenizer} instead. */
  constructor(
    tok: PreTrainedTokenizer,
    dir: string,
    chatTemplate: string | null,
    generation: Record<string, unknown> | null,
    config: Record<string, unknown> | null,
  ) {
    this.#tok = tok;
    this.#dir = dir;
    this.#chatTemplate = chatTemplate;
    const vocab = tok.get_vocab();
    let max = -1;
    for (const id of vocab.values()) if (id > max) max = id;
    this.#idToToken = new Array(max + 1);
    for (const [t, id] of vocab) this.#idToToken[id] = t;
    this.vocabSize = max + 1;
    const eos = [
      ...ids(generation?.eos_token_id),
      ...ids(config?.eos_token_id),
      ...ids(tok.eos_token_id),
    ];
    this.eosTokenIds = [...new Set(eos)];
    const tokCfg = tok.config as Record<string, unknown>;
    const pad = tokCfg.pad_token != null ? tok.pad_token_id : undefined;
    this.padTokenId = pad ?? ids(generation?.pad_token_id)[0] ?? ids(config?.pad_token_id)[0] ??
      null;
    this.bosTokenId = tok.bos_token_id ?? ids(generation?.bos_token_id)[0] ??
      ids(config?.bos_token_id)[0] ?? null;
    this.specialTokenIds = tok.all_special_ids.slice();
  }

  /** The underlying transformers.js `PreTrainedTokenizer`, for anything not covered here. */
  get raw(): PreTrainedTokenizer {
    return this.#tok;
  }

  /** The chat template in use, or null when the model has none. */
  get chatTemplate(): string | null {
    return this.#chatTemplate;
  }

  /** Text → token ids. `addSpecialTokens` (default true) adds e.g. a BOS token. */
  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    return this.#tok.encode(text, { add_special_tokens: options.addSpecialTokens ?? true });
  }

  /** Token ids → text. `skipSpecialTokens` (default false) drops special tokens. */
  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    return this.#tok.decode(ids.slice(), {
      skip_special_tokens: options.skipSpecialTokens ?? false,
    });
  }

  /** The token string of an id (byte-level form, e.g. `Ġthe`), or undefined. */
  idToToken(id: number): string | undefined {
    return this.#idToToken[id];
  }

  /** The id of a token string, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.#tok.get_vocab().get(token);
  }

  /** Renders messages with the chat template into a prompt string. */
  applyChatTemplate(messages: ChatMessage[], options: ChatTemplateOptions = {}): string {
    const template = options.chatTemplate ?? this.#chatTemplate;
    if (!template) {
      throw withCode(
        new TypeError(
          `${this.#dir}: the tokenizer has no chat template (tokenizer_config.json has no ` +
            `"chat_template" and there is no chat_template.jinja); add one or pass chatTemplate`,
        ),
        "E_TOKENIZER",
      );
    }
    return this.#tok.apply_chat_template(messages, {
      ...(options.variables ?? {}),
      chat_template: template,
      add_generation_prompt: options.addGenerationPrompt ?? false,
      tokenize: false,
    }) as unknown as string;
  }

  /** Renders messages and tokenizes the prompt without adding special tokens again. */
  encodeChat(messages: ChatMessage[], options: ChatTemplateOptions = {}): number[] {
    return this.encode(this.applyChatTemplate(messages, options), { addSpecialTokens: false });
  }
}

/**
 * Loads the tokenizer of a local model directory. Needs `tokenizer.json` and
 * `tokenizer_config.json`; reads `chat_template.jinja` when the config has no template, and
 * `generation_config.json` / `config.json` for eos and pad ids. A missing file throws a
 * `TypeError` tagged `E_TOKENIZER` naming the file and the fix.
 *
 * @example
 * ```ts
 * import { loadTokenizer } from "./tokenizer.ts";
 * const tok = await loadTokenizer("./models/tiny");
 * tok.encode("Hello");
 * ```
 */
export async function loadTokenizer(dir: string): Promise<ModelTokenizer> {
  const abs = resolve(dir);
  for (const name of ["tokenizer.json", "tokenizer_config.json"]) {
    try {
      await Deno.stat(join(abs, name));
    } catch {
      throw withCode(
        new TypeError(
          `${join(abs, name)} does not exist; a model directory needs tokenizer.json and ` +
            `tokenizer_config.json (copy them from the original model or re-download it)`,
        ),
        "E_TOKENIZER",
      );
    }
  }
  const tokCfg = await readJson(join(abs, "tokenizer_config.json"));
  // Parse tokenizer.json ourselves first so a broken file gets a clear, coded error.
  await readJson(join(abs, "tokenizer.json"));
  configureEnv();
  let tok: PreTrainedTokenizer;
  try {
    tok = await AutoTokenizer.from_pretrained(abs, { local_files_only: true });
  } catch (error) {
    throw withCode(
      new TypeError(
        `${abs}: transformers.js could not load the tokenizer (${(error as Error).message}); ` +
          `check tokenizer.json and tokenizer_config.json`,
      ),
      "E_TOKENIZER",
    );
  }
  let template: string | null = typeof tokCfg?.chat_template === "string"
    ? tokCfg.chat_template
    : null;
  if (template === null && tokCfg?.chat_template == null) {
    template = await readText(join(abs, "chat_template.jinja"));
    if (template === null) {
      const legacy = await readJson(join(abs, "chat_template.json"));
      if (typeof legacy?.chat_template === "string") template = legacy.chat_template;
    }
    if (template !== null) tok.chat_template = template;
  } else if (template === null && tok.chat_template) {
    // A list of named templates: use the default one.
    const named = tok.chat_template as Record<string, string>;
    template = named.default ?? Object.values(named)[0] ?? null;
  }
  const generation = await readJson(join(abs, "generation_config.json"));
  const config = await readJson(join(abs, "config.json"));
  return new ModelTokenizer(tok, abs, template, generation, config);
}
