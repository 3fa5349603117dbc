/**
 * Summary-level ROUGE-L F as the `rouge` Python package (pltrdy) computes it, which CoSER uses
 * (§1.7): texts are cut into "sentences" on every `.`, pieces that are empty before whitespace
 * normalisation are dropped (a whitespace-only piece survives as an empty sentence), tokens are
 * the result of splitting on single spaces (case-sensitive), the LCS of every (reference
 * sentence, hypothesis sentence) pair is reconstructed as a set of *words*, and the union of
 * those sets counts once; m and n are the numbers of *distinct* tokens of reference and
 * hypothesis. R = |∪| / m, P = |∪| / n, F = 2PR / (P + R + 1e-8).
 *
 * @module
 */

function sentences(text: string): string[] {
  return text.split(".").filter((s) => s.length > 0).map((s) => s.trim().split(/\s+/u).join(" "));
}

function words(sentence: string): string[] {
  return sentence.split(" ");
}

/** The words of the LCS of x and y, reconstructed with pltrdy's tie-breaking. */
export function lcsWords(x: readonly string[], y: readonly string[]): string[] {
  const n = x.length, m = y.length;
  const t: Int32Array[] = Array.from({ length: n + 1 }, () => new Int32Array(m + 1));
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      t[i][j] = x[i - 1] === y[j - 1] ? t[i - 1][j - 1] + 1 : Math.max(t[i - 1][j], t[i][j - 1]);
    }
  }
  const out: string[] = [];
  let i = n, j = m;
  while (i > 0 && j > 0) {
    if (x[i - 1] === y[j - 1]) {
      out.push(x[i - 1]);
      i--;
      j--;
    } else if (t[i - 1][j] > t[i][j - 1]) i--;
    else j--;
  }
  return out.reverse();
}

/** Precision, recall and F of summary-level ROUGE-L. */
export interface RougeScore {
  p: number;
  r: number;
  f: number;
}

/**
 * Summary-level ROUGE-L of a hypothesis against a reference; all zeros when either side has no
 * sentence (pltrdy raises there).
 *
 * @example
 * ```ts
 * import { rougeL } from "./rouge_l.ts";
 * rougeL("a b c", "a c d").f; // 2/3 − tiny: LCS {a, c}, 3 distinct words each side
 * ```
 */
export function rougeL(hypothesis: string, reference: string): RougeScore {
  const hyp = sentences(hypothesis);
  const ref = sentences(reference);
  if (hyp.length === 0 || ref.length === 0) return { p: 0, r: 0, f: 0 };
  const m = new Set(ref.flatMap(words)).size;
  const n = new Set(hyp.flatMap(words)).size;
  const union = new Set<string>();
  for (const r of ref) {
    const rw = words(r);
    for (const h of hyp) for (const w of lcsWords(rw, words(h))) union.add(w);
  }
  const r = union.size / m;
  const p = union.size / n;
  return { p, r, f: 2 * ((p * r) / (p + r + 1e-8)) };
}

/**
 * Sentence-level ROUGE-L over the whole texts: one LCS of the whitespace tokens of hypothesis
 * and reference (case-sensitive, no sentence split), R = LCS / |reference|, P = LCS / |hypothesis|,
 * F = 2PR / (P + R + 1e-8). Not what the current `rouge` package computes for CoSER's strings
 * ({@link rougeL}), but within 0.0001 of the ROUGE-L CoSER released for its GPT-4o run (see the
 * plugin README, "ROUGE-L and the released number").
 *
 * @example
 * ```ts
 * import { rougeLTokens } from "./rouge_l.ts";
 * rougeLTokens("a b c", "a c d").f; // LCS 2 of 3 tokens each side: ≈ 0.6667
 * ```
 */
export function rougeLTokens(hypothesis: string, reference: string): RougeScore {
  const hyp = hypothesis.split(/\s+/u).filter((w) => w !== "");
  const ref = reference.split(/\s+/u).filter((w) => w !== "");
  if (hyp.length === 0 || ref.length === 0) return { p: 0, r: 0, f: 0 };
  const lcs = lcsWords(ref, hyp).length;
  const r = lcs / ref.length;
  const p = lcs / hyp.length;
  return { p, r, f: 2 * ((p * r) / (p + r + 1e-8)) };
}
