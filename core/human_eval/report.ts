/**
 * The human-evaluation report: per question, how often people and the LLM judge gave the true
 * answer, the agreement of the judge with the people (Cohen's κ with a bootstrap interval) and
 * between annotators; for `indistinguishability` sets the share of model-played dialogues people
 * took for human (LLM Roleplay), for `identity` sets the accuracy per identity slot and over all
 * slots (HIS situational tests).
 *
 * @module
 */

import { bootstrapKappa, cohenKappa, type Kappa, type KappaInterval } from "./agreement.ts";
import type { HumanEvalKey } from "./export_set.ts";
import type { LabelSet } from "./labels.ts";

/** Accuracy against the truth. */
export interface Accuracy {
  /** Answers compared with a truth. */
  n: number;
  correct: number;
  accuracy: number;
}

/** One question of the report. */
export interface QuestionReport {
  id: string;
  /** Over every (item, annotator) answer that has a truth. */
  people: Accuracy;
  /** Over items with a judge answer and a truth. */
  judge: Accuracy;
  /** Judge vs the people's majority answer per item (ties: the earliest annotator given). */
  judgeVsPeople?: KappaInterval;
  /** Every pair of annotators over the items both labelled. */
  betweenPeople: (Kappa & { a: string; b: string })[];
}

/** The report. */
export interface HumanEvalReport {
  task: HumanEvalKey["task"];
  title: string;
  set: string;
  items: number;
  annotators: { name: string; file: string; labelled: number }[];
  questions: QuestionReport[];
  /** `indistinguishability` sets: truth of question `source` is `human` or `llm`. */
  indistinguishability?: {
    question: string;
    /** People's answers on model-played items, and the share that said `human`. */
    llmItems: { answers: number; judgedHuman: number; rate: number };
    humanItems: { answers: number; judgedHuman: number; rate: number };
    /** The judge's share of model-played items called human. */
    judgeLlmJudgedHuman: { n: number; rate: number };
  };
  /** `identity` sets: accuracy per slot (the questions) and with every slot right. */
  identity?: {
    slots: { id: string; people: number; judge: number }[];
    peopleAllSlots: Accuracy;
    judgeAllSlots: Accuracy;
  };
}

function acc(pairs: [string, string][]): Accuracy {
  const correct = pairs.filter(([a, b]) => a === b).length;
  return { n: pairs.length, correct, accuracy: pairs.length ? correct / pairs.length : NaN };
}

/**
 * The people's majority answer to `question` on `item`; ties go to the answer of the earliest
 * annotator (in the order the label files were given) among the tied answers.
 */
export function majorityAnswer(
  sets: readonly LabelSet[],
  item: string,
  question: string,
): string | undefined {
  const answers = sets.map((s) => s.labels.get(item)?.[question]).filter((x): x is string =>
    x !== undefined
  );
  if (!answers.length) return undefined;
  const count = new Map<string, number>();
  for (const a of answers) count.set(a, (count.get(a) ?? 0) + 1);
  const top = Math.max(...count.values());
  return answers.find((a) => count.get(a) === top);
}

/**
 * Builds the report from the key and the label files.
 *
 * @example
 * ```ts ignore
 * import { humanEvalReport } from "./report.ts";
 * const report = humanEvalReport(key, [await readLabels("labels_ann1.json", key)]);
 * console.log(report.questions[0].judgeVsPeople?.kappa);
 * ```
 */
export function humanEvalReport(
  key: HumanEvalKey,
  sets: readonly LabelSet[],
  options: { resamples?: number; seed?: number; level?: number } = {},
): HumanEvalReport {
  const questions: QuestionReport[] = key.questions.map((q) => {
    const people: [string, string][] = [];
    for (const item of key.items) {
      const truth = item.truth?.[q.id];
      if (truth === undefined) continue;
      for (const s of sets) {
        const a = s.labels.get(item.anon)?.[q.id];
        if (a !== undefined) people.push([a, truth]);
      }
    }
    const judge: [string, string][] = key.items
      .filter((i) => i.judge?.[q.id] !== undefined && i.truth?.[q.id] !== undefined)
      .map((i) => [i.judge![q.id], i.truth![q.id]]);
    const ja: string[] = [];
    const pa: string[] = [];
    for (const item of key.items) {
      const j = item.judge?.[q.id];
      const p = majorityAnswer(sets, item.anon, q.id);
      if (j !== undefined && p !== undefined) {
        ja.push(j);
        pa.push(p);
      }
    }
    const betweenPeople: QuestionReport["betweenPeople"] = [];
    for (let x = 0; x < sets.length; x++) {
      for (let y = x + 1; y < sets.length; y++) {
        const a: string[] = [];
        const b: string[] = [];
        for (const item of key.items) {
          const u = sets[x].labels.get(item.anon)?.[q.id];
          const v = sets[y].labels.get(item.anon)?.[q.id];
          if (u !== undefined && v !== undefined) {
            a.push(u);
            b.push(v);
          }
        }
        betweenPeople.push({ a: sets[x].annotator, b: sets[y].annotator, ...cohenKappa(a, b) });
      }
    }
    return {
      id: q.id,
      people: acc(people),
      judge: acc(judge),
      ...(ja.length ? { judgeVsPeople: bootstrapKappa(ja, pa, options) } : {}),
      betweenPeople,
    };
  });
  const report: HumanEvalReport = {
    task: key.task,
    title: key.title,
    set: key.set,
    items: key.items.length,
    annotators: sets.map((s) => ({ name: s.annotator, file: s.file, labelled: s.labels.size })),
    questions,
  };
  if (key.task === "indistinguishability") {
    const q = key.questions.find((x) => x.id === "source") ?? key.questions[0];
    const tally = (truth: string) => {
      let answers = 0, judgedHuman = 0;
      for (const item of key.items.filter((i) => i.truth?.[q.id] === truth)) {
        for (const s of sets) {
          const a = s.labels.get(item.anon)?.[q.id];
          if (a === undefined) continue;
          answers++;
          if (a === "human") judgedHuman++;
        }
      }
      return { answers, judgedHuman, rate: answers ? judgedHuman / answers : NaN };
    };
    const llmJudged = key.items.filter((i) =>
      i.truth?.[q.id] === "llm" && i.judge?.[q.id] !== undefined
    );
    report.indistinguishability = {
      question: q.id,
      llmItems: tally("llm"),
      humanItems: tally("human"),
      judgeLlmJudgedHuman: {
        n: llmJudged.length,
        rate: llmJudged.length
          ? llmJudged.filter((i) => i.judge![q.id] === "human").length / llmJudged.length
          : NaN,
      },
    };
  }
  if (key.task === "identity") {
    const withTruth = key.items.filter((i) => key.questions.every((q) => i.truth?.[q.id]));
    const people: [string, string][] = [];
    for (const item of withTruth) {
      for (const s of sets) {
        const a = s.labels.get(item.anon);
        if (!a || !key.questions.every((q) => a[q.id] !== undefined)) continue;
        const right = key.questions.every((q) => a[q.id] === item.truth![q.id]);
        people.push([right ? "1" : "0", "1"]);
      }
    }
    const judge: [string, string][] = withTruth
      .filter((i) => key.questions.every((q) => i.judge?.[q.id] !== undefined))
      .map((i) => [key.questions.every((q) => i.judge![q.id] === i.truth![q.id]) ? "1" : "0", "1"]);
    report.identity = {
      slots: questions.map((q) => ({
        id: q.id,
        people: q.people.accuracy,
        judge: q.judge.accuracy,
      })),
      peopleAllSlots: acc(people),
      judgeAllSlots: acc(judge),
    };
  }
  return report;
}

/**
 * A short plain-text summary of a report (one line per figure).
 *
 * @example
 * ```ts ignore
 * import { formatHumanEvalReport } from "./report.ts";
 * console.log(formatHumanEvalReport(report).join("\n"));
 * ```
 */
export function formatHumanEvalReport(r: HumanEvalReport): string[] {
  const f = (x: number) => Number.isFinite(x) ? x.toFixed(3) : "—";
  const lines = [
    `${r.title}: ${r.items} items, ${r.annotators.length} annotator(s) (${
      r.annotators.map((a) => `${a.name}: ${a.labelled}`).join(", ")
    })`,
  ];
  for (const q of r.questions) {
    lines.push(
      `  ${q.id}: people accuracy ${f(q.people.accuracy)} (n ${q.people.n}), judge accuracy ${
        f(q.judge.accuracy)
      } (n ${q.judge.n})` +
        (q.judgeVsPeople
          ? `, judge vs people κ ${f(q.judgeVsPeople.kappa)} [${f(q.judgeVsPeople.low)}, ${
            f(q.judgeVsPeople.high)
          }] (${Math.round(q.judgeVsPeople.level * 100)}% bootstrap, n ${q.judgeVsPeople.n})`
          : ""),
    );
    for (const p of q.betweenPeople) {
      lines.push(`    ${p.a} vs ${p.b}: κ ${f(p.kappa)} (n ${p.n})`);
    }
  }
  if (r.indistinguishability) {
    const i = r.indistinguishability;
    lines.push(
      `  indistinguishability: people took ${
        f(i.llmItems.rate)
      } of model-played dialogues for human ` +
        `(${i.llmItems.judgedHuman}/${i.llmItems.answers}); human dialogues called human ${
          f(i.humanItems.rate)
        }; judge ${f(i.judgeLlmJudgedHuman.rate)}`,
    );
  }
  if (r.identity) {
    lines.push(
      `  identity recognition, all slots right: people ${
        f(r.identity.peopleAllSlots.accuracy)
      }, judge ${f(r.identity.judgeAllSlots.accuracy)}`,
    );
  }
  return lines;
}
