/**
 * `dramatis data inspect --model M --data F [--json]`: shows what training sees — each example's
 * tokens, as the model's tokenizer and chat template produce them, with the loss mask (as
 * axolotl's preprocess debug and LLaMA-Factory's dataset preview do). Trained tokens are the
 * assistant's own: the reply and its end-of-turn token.
 *
 * @module
 */

import { UsageError } from "../../errors.ts";
import { resolveModel } from "../../model/model_dir.ts";
import { loadTokenizer, type ModelTokenizer } from "../../model/tokenizer.ts";
import { readChatData } from "../../train/chat_data.ts";
import { tokenizeConversation } from "../../train/chat_tokenize.ts";
import { IGNORE_INDEX } from "../../train/loss_graph.ts";
import { printJson } from "../verb.ts";
import type { HostVerb } from "../verb.ts";

/** One token of an inspected example. */
export interface InspectedToken {
  id: number;
  /** The token's vocabulary string (e.g. `▁Hello`, `Ġthe`, `<|eot_id|>`). */
  token: string;
  /** Whether the token carries loss. */
  trained: boolean;
}

/** One inspected example. */
export interface InspectedExample {
  file: string;
  line: number;
  tokens: InspectedToken[];
  trainedTokens: number;
  /** The trained spans as text, in order. */
  trainedText: string[];
}

/**
 * Tokenizes conversations the way the trainers do and reports tokens with the loss mask.
 *
 * @example
 * ```ts ignore
 * import { inspectExamples } from "./data.ts";
 * const out = inspectExamples(tok, conversations);
 * console.log(out[0].trainedText);
 * ```
 */
export function inspectExamples(
  tok: ModelTokenizer,
  conversations: {
    messages: { role: string; content: string }[];
    source: { file: string; line: number };
  }[],
): InspectedExample[] {
  return conversations.map((c) => {
    const ex = tokenizeConversation(tok, c.messages);
    const tokens = ex.inputIds.map((id, k) => ({
      id,
      token: tok.idToToken(id) ?? `<${id}>`,
      trained: ex.labels[k] !== IGNORE_INDEX,
    }));
    const trainedText: string[] = [];
    let run: number[] = [];
    const flush = () => {
      if (run.length) trainedText.push(tok.decode(run));
      run = [];
    };
    tokens.forEach((t) => (t.trained ? run.push(t.id) : flush()));
    flush();
    return {
      file: c.source.file,
      line: c.source.line,
      tokens,
      trainedTokens: tokens.filter((t) => t.trained).length,
      trainedText,
    };
  });
}

/** Renders tokens for a terminal: trained tokens in green brackets, the rest dim. */
function render(tokens: InspectedToken[], color: boolean): string {
  return tokens.map((t) => {
    const s = JSON.stringify(t.token).slice(1, -1);
    if (!color) return t.trained ? `[${s}]` : s;
    return t.trained ? `\x1b[32m[${s}]\x1b[0m` : `\x1b[2m${s}\x1b[0m`;
  }).join(" ");
}

/** The `data inspect` subcommand. */
export const dataInspectVerb: HostVerb = {
  name: "inspect",
  description: "Show each training example's tokens (the model's tokenizer and chat template) " +
    "with the loss mask: [bracketed] tokens are trained (assistant replies and their end-of-turn " +
    "token), the rest are context.",
  flags: {
    model: { type: "string", description: "model directory or hub id", required: true },
    data: {
      type: "string",
      description: "messages/ShareGPT .jsonl/.json file or directory",
      required: true,
    },
    limit: { type: "number", description: "inspect only the first n examples", default: 5 },
  },
  async run(args, ctx) {
    const f = args.flags;
    const limit = f.limit as number;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new UsageError(`--limit is ${limit}; pass a whole number >= 1`);
    }
    const model = await resolveModel(f.model as string);
    const tok = await loadTokenizer(model.dir);
    const { conversations, skipped } = await readChatData(f.data as string, { skipInvalid: true });
    const examples = inspectExamples(tok, conversations.slice(0, limit));
    if (ctx.json) {
      printJson({
        model: model.dir,
        data: f.data,
        examples,
        total: conversations.length,
        skipped: skipped.map((s) => ({ ...s.source, reason: s.reason })),
      });
      return 0;
    }
    const color = Deno.stdout.isTerminal();
    for (const ex of examples) {
      console.log(
        `${ex.file}:${ex.line}  ${ex.tokens.length} tokens, ${ex.trainedTokens} trained`,
      );
      console.log(render(ex.tokens, color));
      for (const t of ex.trainedText) console.log(`  trained: ${JSON.stringify(t)}`);
      console.log();
    }
    ctx.log(
      `${examples.length} of ${conversations.length} examples shown` +
        (skipped.length ? `, ${skipped.length} invalid records skipped` : ""),
    );
    return 0;
  },
};

/** The `data` verb. */
export const dataVerb: HostVerb = {
  name: "data",
  description: "Training data utilities. 'data inspect --model M --data F' prints each " +
    "example's tokens with the loss mask.",
  positionals: ["inspect"],
  subcommands: [dataInspectVerb],
};
