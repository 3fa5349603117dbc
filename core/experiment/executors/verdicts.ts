/**
 * Running a judge on one input and turning the verdict into metrics: a numeric verdict becomes
 * `score`, an object verdict gives one metric per top-level finite number. A verdict that fails
 * the judge's schema becomes a `null` verdict with the reason, never a silent zero.
 *
 * @module
 */

import type { Judge, JudgeContext, Verdict } from "../../contracts/judge.ts";
import type { MetricInput, OutputRecord, Tags } from "../step_executor.ts";

/** The numeric fields of a verdict value. */
export function numericFields(value: unknown): Record<string, number> {
  if (typeof value === "number") return Number.isFinite(value) ? { score: value } : {};
  if (typeof value === "boolean") return { score: value ? 1 : 0 };
  const out: Record<string, number> = {};
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === "number" && Number.isFinite(v)) out[k] = v;
    }
  }
  return out;
}

/**
 * Judges one input; returns the checked verdict and its metrics (tagged with `tags`).
 *
 * @example
 * ```ts
 * import { runJudge } from "./verdicts.ts";
 * import type { Judge } from "../../contracts/judge.ts";
 * declare const judge: Judge<string, { score: number }>;
 * const { verdict, metrics } = await runJudge(judge, "hello", {}, 0, { identity: "a" });
 * console.log(verdict.value, metrics);
 * ```
 */
export async function runJudge(
  judge: Judge,
  input: unknown,
  context: JudgeContext,
  index: number,
  tags?: Tags,
): Promise<{ verdict: Verdict<unknown>; metrics: MetricInput[] }> {
  let verdict = await judge.judge(input, context);
  if (verdict.value !== null) {
    const checked = judge.schema.safeParse(verdict.value);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      verdict = {
        value: null,
        reason: `verdict fails the judge's schema at '${issue.path.join(".")}': ${issue.message}`,
        raw: verdict.raw ?? JSON.stringify(verdict.value),
      };
    }
  }
  const metrics = Object.entries(numericFields(verdict.value)).map(([name, value]) => ({
    name,
    value,
    index,
    ...(tags ? { tags } : {}),
  }));
  return { verdict, metrics };
}

/**
 * Step summary of judged records: count, null verdicts, and the mean of each numeric field.
 *
 * @example
 * ```ts
 * import { summarizeVerdicts } from "./verdicts.ts";
 * console.log(summarizeVerdicts([{ index: 0, key: "0", output: { value: { score: 2 } } }]));
 * // { items: 1, null_verdicts: 0, "mean.score": 2 }
 * ```
 */
export function summarizeVerdicts(records: OutputRecord[]): Record<string, number> {
  const sums: Record<string, { total: number; n: number }> = {};
  let nulls = 0;
  for (const r of records) {
    // judge steps store the verdict itself; steer steps store { response, verdict }
    const o = r.output as Record<string, unknown> | null;
    const v = (o && typeof o === "object" && "verdict" in o ? o.verdict : o) as
      | Verdict<unknown>
      | null;
    if (v?.value === null || v?.value === undefined) {
      nulls++;
      continue;
    }
    for (const [k, x] of Object.entries(numericFields(v.value))) {
      sums[k] ??= { total: 0, n: 0 };
      sums[k].total += x;
      sums[k].n++;
    }
  }
  const out: Record<string, number> = { items: records.length, null_verdicts: nulls };
  for (const [k, s] of Object.entries(sums)) out[`mean.${k}`] = s.total / s.n;
  return out;
}
