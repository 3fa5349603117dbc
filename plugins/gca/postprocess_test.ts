import assert from "node:assert/strict";
import { fixRepetition, keepOwnBlock } from "./postprocess.ts";

Deno.test("fixRepetition() keeps one copy of a 5-word run repeated 4 more times", () => {
  const unit = "I will not go back";
  assert.equal(
    fixRepetition(`Listen. ${unit} ${unit} ${unit} ${unit} ${unit} ${unit}`),
    `Listen. ${unit}`,
  );
  // four copies in total are not enough for rule 1 and too short for rule 2: unchanged
  const four = `${unit} ${unit} ${unit} ${unit}`;
  assert.equal(fixRepetition(four), four);
});

Deno.test("fixRepetition() cuts before the first non-overlapping repeat of 15+ words", () => {
  const long = Array.from({ length: 15 }, (_, i) => `w${i}`).join(" ");
  const text = `${long} and then ${long} end`;
  assert.equal(fixRepetition(text), `${long} and then`);
  const fourteen = Array.from({ length: 14 }, (_, i) => `w${i}`).join(" ");
  const t2 = `${fourteen} x ${fourteen} y`;
  assert.equal(fixRepetition(t2), t2);
});

Deno.test("fixRepetition() shortens runs of 100+ letters to 20", () => {
  assert.equal(fixRepetition("Ha" + "a".repeat(120) + "!"), "H" + "a".repeat(19) + "!");
  const ninetyNine = "b".repeat(99);
  assert.equal(fixRepetition(ninetyNine), ninetyNine);
});

Deno.test("keepOwnBlock() keeps the speaker's block among several", () => {
  const names = ["Tom", "Ada", "Environment"];
  assert.equal(
    keepOwnBlock("Ada: Where?\nTom: Here.\nStill here.\nAda: Good.", "Tom", names),
    "Tom: Here.\nStill here.",
  );
  assert.equal(keepOwnBlock("Tom: Just me.", "Tom", names), "Tom: Just me.");
  assert.equal(
    keepOwnBlock("(waves) Hi.\nAda: Hello.\nEnvironment: Rain.", "Tom", names),
    "(waves) Hi.",
  );
  assert.equal(keepOwnBlock("Ada: Hello.\nEnvironment: Rain.", "Tom", names), "Ada: Hello.");
});
