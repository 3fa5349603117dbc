/**
 * `dramatis gca chat` and `dramatis gca persona`: talk with a character of a CoSER book file, in a
 * terminal or one turn at a time (`--message`), or write a persona file that `dramatis serve`
 * answers as that character with the same prompt.
 *
 * @module
 */

import { dirname, join } from "node:path";
import type { ChatMessage } from "../../../core/contracts/chat_model.ts";
import { type Persona, PersonaSchema } from "../../../core/contracts/persona.ts";
import type { ParsedArgs, PluginCommand } from "../../../core/contracts/plugin.ts";
import { UsageError } from "../../../core/errors.ts";
import { MODEL_REF_SYNTAX as MODEL_SYNTAX } from "../../../core/services/model_ref.ts";
import { ModelResolver } from "../../../core/services/model_resolver.ts";
import { writeJsonAtomic } from "../../../core/util/atomic.ts";
import {
  assistantTurn,
  type BookCharacter,
  bookCharacter,
  bookTitleOf,
  coserChatSystemPrompt,
  renderReply,
  replySegments,
  userTurn,
} from "../chat_character.ts";
import { parseBook } from "../schemas.ts";
import { readJsonFile } from "./io.ts";

const CHARACTER_FLAGS = {
  book: {
    type: "string" as const,
    required: true,
    description: "a CoSER book file (data/final/<title>.json)",
  },
  character: { type: "string" as const, required: true, description: "the character to play" },
  title: { type: "string" as const, description: "book title (default: the file name)" },
  scenario: { type: "string" as const, description: "a scenario to set the scene (optional)" },
  "user-name": {
    type: "string" as const,
    description: "the character you play; your turns start with 'Name: ' (CoSER format)",
  },
};

async function loadCharacter(args: ParsedArgs): Promise<BookCharacter> {
  const file = args.flags.book as string;
  const book = parseBook(await readJsonFile(file, "--book"), file);
  return bookCharacter(
    book,
    args.flags.character as string,
    (args.flags.title as string | undefined) ?? bookTitleOf(file),
  );
}

/** Lines of a byte stream (without their line ends), the last one even without a newline. */
async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, nl).replace(/\r$/, "");
      buffered = buffered.slice(nl + 1);
    }
  }
  if (buffered) yield buffered;
}

/** The `chat` command. */
export const chatCommand: PluginCommand = {
  name: "chat",
  description: "Chat with a character of a CoSER book in the paper's chat format: thoughts in " +
    "[ ], actions in ( ). Interactive in a terminal; --message answers one turn.",
  flags: {
    ...CHARACTER_FLAGS,
    model: { type: "string", required: true, description: `the actor <model>: ${MODEL_SYNTAX}` },
    message: {
      type: "string",
      multiple: true,
      description: "send this message (repeatable, one turn each) and exit",
    },
    "max-tokens": { type: "number", default: 256, description: "max_tokens per reply" },
    temperature: { type: "number", default: 0.7, description: "sampling temperature" },
    seed: { type: "number", default: 0, description: "sampling seed" },
    save: { type: "string", description: "write the transcript (JSON) here at the end" },
  },
  async run(args, ctx) {
    const character = await loadCharacter(args);
    const userName = args.flags["user-name"] as string | undefined;
    const system = coserChatSystemPrompt(character, {
      scenario: args.flags.scenario as string | undefined,
      userName,
    });
    const messages: ChatMessage[] = [{ role: "system", content: system }];
    const turns: { user: string; reply: string; segments: ReturnType<typeof replySegments> }[] = [];
    const resolver = new ModelResolver({ hub: ctx.models, cachePath: null });
    const color = !ctx.json && Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR");
    try {
      const model = await resolver.get(args.flags.model as string);
      const say = async (text: string) => {
        messages.push({ role: "user", content: userTurn(text, userName) });
        const r = await model.chat({
          messages,
          max_tokens: args.flags["max-tokens"] as number,
          temperature: args.flags.temperature as number,
          seed: args.flags.seed as number,
          signal: ctx.signal,
        });
        const reply = r.choices[0]?.message.content ?? "";
        const segments = replySegments(reply, character.name);
        messages.push(assistantTurn(reply, character.name));
        turns.push({ user: text, reply, segments });
        if (!ctx.json) console.log(renderReply(segments, character.name, color));
      };
      const given = (args.flags.message as string[] | undefined) ?? [];
      if (given.length) {
        for (const m of given) await say(m);
      } else {
        if (!Deno.stdin.isTerminal() && ctx.json) {
          throw new UsageError("gca chat --json needs --message (there is no terminal to read)");
        }
        ctx.log(
          `Chatting with ${character.name} from ${character.book}. Type a message; /quit or ` +
            "an empty line at end of input stops.",
        );
        const lines = readLines(Deno.stdin.readable);
        const enc = new TextEncoder();
        await Deno.stdout.write(enc.encode(`${userName ?? "You"}> `));
        for await (const line of lines) {
          const text = line.trim();
          if (text === "/quit" || text === "/exit") break;
          if (text) await say(text);
          await Deno.stdout.write(enc.encode(`${userName ?? "You"}> `));
        }
        if (!ctx.json) console.log();
      }
    } finally {
      resolver.close();
    }
    const transcript = {
      character: character.name,
      book: character.book,
      model: args.flags.model,
      messages,
      turns,
    };
    if (typeof args.flags.save === "string") await writeJsonAtomic(args.flags.save, transcript);
    if (ctx.json) console.log(JSON.stringify(transcript, null, 2));
    return 0;
  },
};

/**
 * The persona of a book character: its system prompt is the chat prompt, its name a slug of the
 * character's name.
 *
 * @example
 * ```ts
 * import { characterPersona } from "./chat_command.ts";
 * const p = characterPersona({ name: "Iago", book: "Othello", profile: "Ensign." }, { model: "./tiny" });
 * console.log(p.name, p.char_name); // "iago" "Iago"
 * ```
 */
export function characterPersona(
  character: BookCharacter,
  options: { model: string; name?: string; scenario?: string; userName?: string },
): Persona {
  const slug = character.name.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "") || "character";
  return PersonaSchema.parse({
    name: options.name ?? slug,
    description: `${character.name} from ${character.book} (CoSER book character)`,
    model: options.model,
    system_prompt: coserChatSystemPrompt(character, {
      scenario: options.scenario,
      userName: options.userName,
    }),
    char_name: character.name,
    user_name: options.userName ?? "User",
    metadata: {
      source: "coser",
      book: character.book,
      character: character.name,
      format: "thoughts in [ ], actions in ( ), replies begin with the character's name",
    },
  });
}

/** The `persona` command. */
export const personaCommand: PluginCommand = {
  name: "persona",
  description: "Write a persona file for a CoSER book character (the chat prompt as its system " +
    "prompt); 'dramatis serve --personas <dir>' then answers as the character.",
  flags: {
    ...CHARACTER_FLAGS,
    model: {
      type: "string",
      required: true,
      description: "the persona's base model (directory, hub id, openai:<name> or URL)",
    },
    name: { type: "string", description: "persona name (default: the character's name as a slug)" },
    out: {
      type: "string",
      required: true,
      description: "persona file to write, or a directory (then <name>.json inside)",
    },
  },
  async run(args, ctx) {
    const character = await loadCharacter(args);
    const persona = characterPersona(character, {
      model: args.flags.model as string,
      name: args.flags.name as string | undefined,
      scenario: args.flags.scenario as string | undefined,
      userName: args.flags["user-name"] as string | undefined,
    });
    const out = args.flags.out as string;
    const isDir = out.endsWith("/") ||
      await Deno.stat(out).then((s) => s.isDirectory, () => false);
    const file = isDir ? join(out, `${persona.name}.json`) : out;
    await Deno.mkdir(dirname(file), { recursive: true });
    await writeJsonAtomic(file, persona);
    if (ctx.json) console.log(JSON.stringify({ file, persona: persona.name }));
    else {
      console.log(
        `wrote ${file}: persona "${persona.name}" plays ${character.name} from ${character.book}; ` +
          `serve it with: deno task serve --model ${persona.model} --personas ${
            dirname(file)
          } (model "${persona.name}")`,
      );
    }
    return 0;
  },
};
