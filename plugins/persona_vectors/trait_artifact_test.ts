import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { errorCode } from "../../core/errors.ts";
import {
  halfDifferences,
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

Deno.test("traitBaseName() keeps multi-word upstream names whole", () => {
  assert.equal(traitBaseName("highly_disagreeable"), "highly_disagreeable");
  assert.equal(traitBaseName("anti-sycophantic"), "anti-sycophantic");
});

const UPSTREAM = new URL(
  "../../../shared/upstream/persona_vectors/data_generation/",
  import.meta.url,
).pathname;
const present = existsSync(UPSTREAM);
if (!present) console.warn(`skipped: ${UPSTREAM} is absent (../shared/upstream)`);

Deno.test({
  name: "loadTraitArtifact() reads every released split trait file, from either half",
  ignore: !present,
  async fn() {
    const names = [...Deno.readDirSync(join(UPSTREAM, "trait_data_extract"))].map((e) => e.name)
      .sort();
    assert.equal(names.length, 11);
    for (const name of names) {
      const raw = {
        extract: JSON.parse(await Deno.readTextFile(join(UPSTREAM, "trait_data_extract", name))),
        eval: JSON.parse(await Deno.readTextFile(join(UPSTREAM, "trait_data_eval", name))),
      };
      const a = await loadTraitArtifact(join(UPSTREAM, "trait_data_extract", name));
      const b = await loadTraitArtifact(join(UPSTREAM, "trait_data_eval", name));
      assert.deepEqual(a, b, name);
      assert.equal(a.trait, name.replace(/\.json$/, ""));
      // Each half exactly as released: instructions, questions (counts as released), judge template.
      const halves = splitArtifact(a);
      assert.deepEqual(halves.extract, raw.extract, name);
      assert.deepEqual(halves.eval, raw.eval, name);
    }
    const ape = await loadTraitArtifact(join(UPSTREAM, "trait_data_extract", "APE.json"));
    assert.deepEqual(
      [ape.halves!.extract.questions.length, ape.halves!.eval.questions.length],
      [36, 36],
    );
    assert.deepEqual(halfDifferences(ape).sort(), [
      "instructions differ: each half's rollouts use its own",
      "question counts as released: 36 extract, 36 eval",
    ]);
    const evil = await loadTraitArtifact(join(UPSTREAM, "trait_data_eval", "evil.json"));
    assert.notEqual(evil.halves!.extract.eval_prompt, evil.halves!.eval.eval_prompt);
    assert.deepEqual(halfDifferences(evil), [
      "eval_prompt differs: each half is judged with its own",
    ]);
  },
});

Deno.test("loadTraitArtifact() names the missing other half", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(join(dir, "trait_data_extract"));
  const half = {
    instruction: [{ pos: "p", neg: "n" }],
    questions: ["q"],
    eval_prompt: "{question}{answer}",
  };
  await Deno.writeTextFile(join(dir, "trait_data_extract", "odd.json"), JSON.stringify(half));
  await assert.rejects(
    () => loadTraitArtifact(join(dir, "trait_data_extract", "odd.json")),
    /extract half of trait "odd" but .*trait_data_eval\/odd\.json \(the other half\) is missing/,
  );
  await Deno.writeTextFile(join(dir, "trait_data_extract", "cut.json"), '{"instruction": [');
  await assert.rejects(
    () => loadTraitArtifact(join(dir, "trait_data_extract", "cut.json")),
    /cut\.json:1: the file is not valid JSON .*truncated/,
  );
  await Deno.remove(dir, { recursive: true });
});
