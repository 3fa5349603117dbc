/**
 * Post-processing of actor replies from open models: cutting degenerate repetition, and keeping
 * only the speaker's own block when a model writes lines for several characters.
 *
 * Tokens for the repetition rules are whitespace-separated words; the cut keeps the original
 * text (and its spacing) before the cut point.
 *
 * @module
 */

interface Tok {
  word: string;
  start: number;
  end: number;
}

function words(text: string): Tok[] {
  return [...text.matchAll(/\S+/g)].map((m) => ({
    word: m[0],
    start: m.index!,
    end: m.index! + m[0].length,
  }));
}

function sameRun(t: Tok[], a: number, b: number, len: number): boolean {
  for (let k = 0; k < len; k++) if (t[a + k].word !== t[b + k].word) return false;
  return true;
}

/**
 * Cuts degenerate repetition, in this order of preference:
 * 1. a sequence of 5–30 words followed by 4 more consecutive copies of itself: the text ends
 *    after its first copy (earliest start wins, then the shortest length);
 * 2. else the first place where a 15–30-word sequence repeats an earlier, non-overlapping one:
 *    the text ends before the repeat;
 * then any run of 100 or more Latin letters is shortened to its first 20.
 *
 * @example
 * ```ts
 * import { fixRepetition } from "./postprocess.ts";
 * fixRepetition("I am here now ok. ".repeat(6)); // "I am here now ok."
 * ```
 */
export function fixRepetition(text: string): string {
  const t = words(text);
  let cut = -1;
  outer: for (let i = 0; i < t.length; i++) {
    for (let len = 5; len <= 30 && i + 5 * len <= t.length; len++) {
      let ok = true;
      for (let r = 1; r <= 4 && ok; r++) ok = sameRun(t, i, i + r * len, len);
      if (ok) {
        cut = t[i + len - 1].end;
        break outer;
      }
    }
  }
  if (cut < 0) {
    // earliest j whose 15–30-word window also occurs at some i with i + len <= j
    outer2: for (let j = 15; j < t.length; j++) {
      for (let len = 15; len <= 30 && j + len <= t.length; len++) {
        for (let i = 0; i + len <= j; i++) {
          if (sameRun(t, i, j, len)) {
            cut = t[j].start;
            break outer2;
          }
        }
      }
    }
  }
  const out = cut >= 0 ? text.slice(0, cut).trimEnd() : text;
  return out.replace(/[A-Za-z]{100,}/g, (run) => run.slice(0, 20));
}

/**
 * When a reply holds several `Name:` blocks (lines starting with a known speaker's name and a
 * colon), keeps only the first block of `speaker` (header included); with no block of its own,
 * keeps the text before the first block, else the first block. Replies with fewer than two
 * blocks come back unchanged.
 *
 * @example
 * ```ts
 * import { keepOwnBlock } from "./postprocess.ts";
 * keepOwnBlock("Tom: Gone?\nAda: Yes, gone.", "Tom", ["Tom", "Ada"]); // "Tom: Gone?"
 * ```
 */
export function keepOwnBlock(text: string, speaker: string, names: readonly string[]): string {
  const lines = text.split("\n");
  const blocks: { name: string; start: number }[] = [];
  lines.forEach((line, i) => {
    const s = line.trimStart();
    const name = names.find((n) => s.startsWith(`${n}:`) || s.startsWith(`${n}：`));
    if (name !== undefined) blocks.push({ name, start: i });
  });
  if (blocks.length < 2) return text;
  const own = blocks.findIndex((b) => b.name === speaker);
  if (own < 0) {
    const lead = lines.slice(0, blocks[0].start).join("\n").trim();
    if (lead) return lead;
    return lines.slice(blocks[0].start, blocks[1]?.start ?? lines.length).join("\n").trim();
  }
  const end = blocks[own + 1]?.start ?? lines.length;
  return lines.slice(blocks[own].start, end).join("\n").trim();
}
