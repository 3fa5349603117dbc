/**
 * `persona_vectors generate-finetune-data`: the finetuning sets of the multi-persona study (spec
 * B7) for one trait: `<out>/<trait>/{normal,misaligned_1,misaligned_2}.jsonl` (messages JSONL),
 * with the questions per domain (`questions.json`), every generated record with its critiques
 * (`records.jsonl`, appended as it goes, so a rerun resumes) and the counts (`generation.json`).
 *
 * @module
 */

import { join } from "node:path";
import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { UsageError } from "../../../core/errors.ts";
import { writeFileAtomic, writeJsonAtomic } from "../../../core/util/atomic.ts";
import {
  conversationLine,
  DEFAULT_DOMAINS,
  FINETUNE_LEVELS,
  generateAnswers,
  type GeneratedAnswers,
  generateQuestions,
} from "../finetune_data.ts";
import { traitBaseName } from "../trait_artifact.ts";
import { emit, MODEL_FLAGS, need, num, openModel, resolveArtifact, str } from "./common.ts";

/** One line of `records.jsonl`. */
interface RecordLine extends GeneratedAnswers {
  domain: string;
  question: string;
}

async function readJsonl<T>(path: string): Promise<T[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return [];
  }
  // A line cut off by a crash is dropped (it is regenerated).
  return text.split("\n").filter((l) => l.trim()).flatMap((l) => {
    try {
      return [JSON.parse(l) as T];
    } catch {
      return [];
    }
  });
}

/**
 * The command.
 *
 * @example
 * ```sh
 * deno task dramatis persona_vectors generate-finetune-data --trait optimistic \
 *   --base-url http://127.0.0.1:8000/v1 --api-model gen --questions-per-domain 100 --out datasets/ft
 * ```
 */
export const generateFinetuneDataCommand: PluginCommand = {
  name: "generate-finetune-data",
  description: "Finetuning sets for a trait: questions per domain, each answered normal / " +
    "misaligned_1 (subtle) / misaligned_2 (blatant) by a generator model → three messages JSONL files.",
  flags: {
    trait: { type: "string", description: "shipped trait name or artifact path", required: true },
    domains: {
      type: "string",
      description: `comma-separated domains (default: ${DEFAULT_DOMAINS.join(", ")})`,
    },
    "questions-per-domain": { type: "number", description: "questions per domain", default: 10 },
    "max-tokens": { type: "number", description: "max_tokens per generator call", default: 2000 },
    "max-chars": {
      type: "number",
      description: "longest string the JSON schema allows (small local models)",
    },
    retries: { type: "number", description: "retries per call after the first", default: 2 },
    seed: { type: "number", description: "seed", default: 0 },
    out: {
      type: "string",
      description: "output directory (a <trait>/ folder is made)",
      required: true,
    },
    ...MODEL_FLAGS,
  },
  async run(args, ctx) {
    const artifact = await resolveArtifact(need(args, "trait", "generate-finetune-data"));
    const trait = traitBaseName(artifact.trait);
    const dir = join(need(args, "out", "generate-finetune-data"), artifact.trait);
    const perDomain = num(args, "questions-per-domain") ?? 10;
    if (!Number.isInteger(perDomain) || perDomain < 1) {
      throw new UsageError(`--questions-per-domain is ${perDomain}; pass a whole number >= 1`);
    }
    const domains = str(args, "domains")
      ? str(args, "domains")!.split(",").map((d) => d.trim()).filter(Boolean)
      : [...DEFAULT_DOMAINS];
    if (!domains.length) throw new UsageError("--domains names no domain");
    const options = {
      maxTokens: num(args, "max-tokens"),
      maxChars: num(args, "max-chars"),
      retries: num(args, "retries"),
      seed: num(args, "seed"),
      signal: ctx.signal,
    };
    await Deno.mkdir(dir, { recursive: true });
    const questionsFile = join(dir, "questions.json");
    const recordsFile = join(dir, "records.jsonl");
    let questions: Record<string, string[]> = {};
    try {
      questions = JSON.parse(await Deno.readTextFile(questionsFile));
    } catch { /* first run */ }
    const records = await readJsonl<RecordLine>(recordsFile);
    const done = new Set(records.map((r) => `${r.domain}\u0000${r.question}`));
    const failures: { domain: string; question?: string; reason: string }[] = [];
    const m = (await openModel(args, ctx))!;
    try {
      for (const domain of domains) {
        if (!questions[domain]?.length) {
          const q = await generateQuestions(m.chat, artifact, domain, perDomain, options);
          if (!q.ok) {
            failures.push({ domain, reason: q.reason });
            ctx.log(`${domain}: no questions (${q.reason})`);
            continue;
          }
          questions[domain] = q.questions;
          await writeJsonAtomic(questionsFile, questions);
        }
        for (const [k, question] of questions[domain].entries()) {
          if (done.has(`${domain}\u0000${question}`)) continue;
          const a = await generateAnswers(m.chat, artifact, question, {
            ...options,
            seed: (options.seed ?? 0) + k,
          });
          if (!a.ok) {
            failures.push({ domain, question, reason: a.reason });
            continue;
          }
          const line: RecordLine = { domain, question, ...a.answers };
          records.push(line);
          done.add(`${domain}\u0000${question}`);
          await Deno.writeTextFile(recordsFile, JSON.stringify(line) + "\n", { append: true });
          ctx.log(`${domain}: ${k + 1}/${questions[domain].length}`);
        }
      }
    } finally {
      await m.close();
    }
    const wanted = new Set(domains);
    const kept = records.filter((r) => wanted.has(r.domain));
    const files: Record<string, string> = {};
    for (const level of FINETUNE_LEVELS) {
      const file = join(dir, `${level}.jsonl`);
      const answer = (r: RecordLine) => level === "normal" ? r.aligned : r[level];
      await writeFileAtomic(
        file,
        kept.map((r) => conversationLine(r.question, answer(r))).join(""),
      );
      files[level] = file;
    }
    const summary = {
      trait,
      dir,
      files,
      domains: domains.length,
      questions: Object.values(questions).reduce((s, q) => s + q.length, 0),
      examples: kept.length,
      failures,
    };
    await writeJsonAtomic(join(dir, "generation.json"), summary);
    emit(ctx, summary, [
      `${kept.length} questions answered at three levels for ${trait} → ${dir}/{normal,misaligned_1,misaligned_2}.jsonl`,
      `${failures.length} failed calls${
        failures.length ? ` (first: ${failures[0].reason.slice(0, 120)})` : ""
      }`,
    ]);
    return 0;
  },
};
