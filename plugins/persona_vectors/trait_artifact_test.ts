import assert from "node:assert/strict";
import { errorCode } from "../../core/errors.ts";
import {
  loadTraitArtifact,
  parseTraitArtifact,
  SHIPPED_TRAITS,
  SHIPPED_TRAITS_DIR,
  splitArtifact,
  traitBaseName,
  TraitSplitSchema,
} from "./trait_artifact.ts";

Deno.test("shipped trait artifacts validate and split 20/20", async () => {
  for (const name of SHIPPED_TRAITS) {
    const a = await loadTraitArtifact(`${SHIPPED_TRAITS_DIR}${name}.json`);
    assert.equal(a.trait, name);
    assert.equal(new Set(a.questions).size, 40, `${name} has duplicate questions`);
    const { extract, eval: evaluation } = splitArtifact(a);
    assert.deepEqual([extract.questions.length, evaluation.questions.length], [20, 20]);
    assert.equal(extract.questions[0], a.questions[0]);
    assert.equal(evaluation.questions[0], a.questions[20]);
    assert.equal(TraitSplitSchema.safeParse(extract).success, true);
    for (const p of a.instruction) assert.notEqual(p.pos, p.neg);
  }
});

Deno.test("parseTraitArtifact() names the broken field", () => {
  assert.throws(
    () =>
      parseTraitArtifact({
        trait: "x",
        description: "d",
        instruction: [],
        questions: [],
        eval_prompt: "",
      }, "x.json"),
    /x\.json is not a valid trait artifact \(instruction: .*questions: .*eval_prompt: eval_prompt must contain/,
  );
  try {
    parseTraitArtifact(null);
  } catch (e) {
    assert.equal(errorCode(e), "E_DATA");
  }
});

Deno.test("traitBaseName() strips a variant suffix", () => {
  assert.equal(traitBaseName("anxious_3"), "anxious");
  assert.equal(traitBaseName("humorous"), "humorous");
});
