import assert from "node:assert/strict";
import { BF_MARKER_100 } from "./items.ts";
import {
  expressedPolarity,
  itemScore,
  majorityVote,
  parseScaleVerdict,
  scoreFactors,
} from "./scale_scoring.ts";

Deno.test("majorityVote() picks the most common, earliest on ties, ignoring nulls", () => {
  assert.equal(majorityVote(["A", "C", "C", "E", "C"]), "C");
  assert.equal(majorityVote(["B", "D", "D", "B", "E"]), "B");
  assert.equal(majorityVote([null, "D", null, "B", "B"]), "B");
  assert.equal(majorityVote([null, null]), null);
  assert.equal(majorityVote([]), null);
});

Deno.test("itemScore() reverses negatively keyed items", () => {
  assert.deepEqual(["A", "B", "C", "D", "E"].map((o) => itemScore(o as "A", "pos")), [
    1,
    2,
    3,
    4,
    5,
  ]);
  assert.deepEqual(["A", "B", "C", "D", "E"].map((o) => itemScore(o as "A", "neg")), [
    5,
    4,
    3,
    2,
    1,
  ]);
  assert.throws(() => itemScore("F" as "A", "pos"), /option is "F"/);
});

Deno.test("scoreFactors() sums keyed votes and counts missing items", () => {
  // 5-vote majorities fixed by hand: EXT items pos:E(5) neg:A(5) neg:D(2) → sum 12, mean 4
  const votes = [
    { factor: "EXT", key: "pos" as const, votes: ["E", "E", "D", "E", "C"] },
    { factor: "EXT", key: "neg" as const, votes: ["A", "B", "A", null, "A"] },
    { factor: "EXT", key: "neg" as const, votes: ["D", "D", "B", "B", "C"] },
    { factor: "EMS", key: "neg" as const, votes: [null, null, null, null, null] },
    { factor: "EMS", key: "pos" as const, votes: ["B", "B", "B", "A", "A"] },
  ];
  const s = scoreFactors(votes.map((v) => ({
    factor: v.factor,
    key: v.key,
    option: majorityVote(v.votes as ("A" | null)[]),
  })));
  assert.deepEqual(s.EXT, { sum: 12, mean: 4, answered: 3, missing: 0 });
  assert.deepEqual(s.EMS, { sum: 2, mean: 2, answered: 1, missing: 1 });
});

Deno.test("scoreFactors() gives 100 for an all-E-on-pos, all-A-on-neg factor", () => {
  const ext = BF_MARKER_100.filter((i) => i.factor === "EXT");
  const s = scoreFactors(ext.map((i) => ({ ...i, option: i.key === "pos" ? "E" : "A" })));
  assert.equal(s.EXT.sum, 100);
  assert.equal(s.EXT.mean, 5);
});

Deno.test("expressedPolarity() splits at 3", () => {
  assert.equal(expressedPolarity(3.05), "high");
  assert.equal(expressedPolarity(1), "low");
  assert.equal(expressedPolarity(3), null);
  assert.equal(expressedPolarity(NaN), null);
});

Deno.test("parseScaleVerdict() reads JSON options and rejects others", () => {
  assert.deepEqual(parseScaleVerdict('```json\n{"option": "(b)", "desc": "x"}\n```'), {
    option: "B",
    desc: "x",
  });
  assert.equal(parseScaleVerdict('{"option": "F"}').option, null);
  assert.equal(parseScaleVerdict("D").option, null);
  assert.equal(parseScaleVerdict("{option: D}").option, null);
});

Deno.test("BF_MARKER_100 has the IPIP keying counts", () => {
  const count = (f: string, k: string) =>
    BF_MARKER_100.filter((i) => i.factor === f && i.key === k).length;
  assert.deepEqual(
    ["EXT", "AGR", "CON", "EMS", "OPE"].map((f) => [count(f, "pos"), count(f, "neg")]),
    [[10, 10], [14, 6], [11, 9], [5, 15], [13, 7]],
  );
});
