/**
 * `dramatis roleplay human-eval-set`: the material of the paper's human indistinguishability study
 * as a human-evaluation set (core/human_eval): each dialogue becomes an item whose question is
 * "was the user a person or a model?", with the truth from which file it came (simulated
 * dialogues, optionally real human ones) and the LLM judge's verdict when `roleplay judge --out`
 * verdicts are given. Export it with `dramatis human-eval export --set <file> --out <dir>`.
 *
 * @module
 */

import { resolve } from "node:path";
import type { PluginCommand } from "../../core/contracts/plugin.ts";
import { UsageError, withCode } from "../../core/errors.ts";
import { type HumanEvalItem, parseHumanEvalSet } from "../../core/human_eval/items.ts";
import { writeJsonAtomic } from "../../core/util/atomic.ts";
import { readDialogRecords } from "./record.ts";

/** The question of the set. */
export const SOURCE_QUESTION = {
  id: "source",
  prompt:
    "Who wrote the USER turns: a person (human) or a language model pretending to be one (llm)?",
  choices: ["human", "llm"],
};

async function verdictsOf(files: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const file of files) {
    const lines = (await Deno.readTextFile(file)).split("\n");
    for (const [n, line] of lines.entries()) {
      if (!line.trim()) continue;
      let v: {
        file?: string;
        index?: number;
        id?: string | null;
        verdict?: { value?: { verdict?: string } | null };
      };
      try {
        v = JSON.parse(line);
      } catch (e) {
        throw withCode(
          new SyntaxError(`${file}:${n + 1} is not JSON (${(e as Error).message})`),
          "E_DATA",
        );
      }
      const verdict = v.verdict?.value?.verdict;
      if (verdict !== "human" && verdict !== "simulated") continue; // a failed verdict: no judge answer
      const answer = verdict === "human" ? "human" : "llm";
      if (typeof v.file === "string" && typeof v.index === "number") {
        out.set(`${resolve(v.file)}#${v.index}`, answer);
      }
      if (typeof v.id === "string") out.set(`id:${v.id}`, answer);
    }
  }
  return out;
}

/** The command. */
export const humanEvalSetCommand: PluginCommand = {
  name: "human-eval-set",
  description: "Turn dialogue files into a human-evaluation set for the indistinguishability " +
    "study (truth: simulated or human; the judge's verdicts when given). Export it with " +
    "'dramatis human-eval export'.",
  flags: {
    dialogs: {
      type: "string",
      multiple: true,
      required: true,
      description: "simulated dialogue JSONL (as generate writes it); truth llm",
    },
    "human-dialogs": {
      type: "string",
      multiple: true,
      description: "dialogues typed by people, same record format; truth human",
    },
    verdicts: {
      type: "string",
      multiple: true,
      description: "verdict JSONL written by 'roleplay judge --out' (the judge's answers)",
    },
    out: { type: "string", required: true, description: "the set file to write (JSON)" },
  },
  async run(args, ctx) {
    const out = args.flags.out as string;
    const judged = await verdictsOf((args.flags.verdicts as string[] | undefined) ?? []);
    const items: HumanEvalItem[] = [];
    const add = async (files: readonly string[], truth: "human" | "llm") => {
      for (const file of files) {
        const { records } = await readDialogRecords(file);
        for (const [index, r] of records.entries()) {
          const judge = judged.get(`${resolve(file)}#${index}`) ??
            (r.id ? judged.get(`id:${r.id}`) : undefined);
          items.push({
            id: `${truth}:${file}#${index}`,
            turns: r.dialog.flatMap((t) => [
              { speaker: "USER", content: t.model_inquirer },
              { speaker: "ASSISTANT", content: t.model_responder },
            ]),
            truth: { source: truth },
            ...(judge ? { judge: { source: judge } } : {}),
            meta: { file, index, ...(r.id ? { record_id: r.id } : {}) },
          });
        }
      }
    };
    await add(args.flags.dialogs as string[], "llm");
    await add((args.flags["human-dialogs"] as string[] | undefined) ?? [], "human");
    if (!items.length) throw new UsageError("the dialogue files hold no records");
    const set = parseHumanEvalSet({
      task: "indistinguishability",
      title: "Who wrote the user turns?",
      instructions:
        "Each conversation is between a USER and a chatbot (ASSISTANT). Some USERs were people, " +
        "others were a language model playing a person with a task. Judge the USER side only.",
      questions: [SOURCE_QUESTION],
      items: items.filter((i) => (i.turns?.length ?? 0) > 0),
    }, out);
    await writeJsonAtomic(out, set);
    const withJudge = set.items.filter((i) => i.judge).length;
    if (ctx.json) console.log(JSON.stringify({ out, items: set.items.length, judged: withJudge }));
    else {
      console.log(
        `${set.items.length} dialogues (${withJudge} with a judge verdict) → ${out}; ` +
          `next: deno task dramatis human-eval export --set ${out} --out <dir>`,
      );
    }
    return 0;
  },
};
