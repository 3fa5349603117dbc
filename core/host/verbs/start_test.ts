import assert from "node:assert/strict";
import { parseExperiment } from "../../experiment/load_experiment.ts";
import { join } from "node:path";
import { quickstartExperiment, recipeDigest, tinyBaseIsCurrent } from "./start.ts";

Deno.test("quickstartExperiment() rebases every use of the pretrained model on --model", async () => {
  const tiny = await quickstartExperiment();
  const tinyText = JSON.stringify(tiny);
  assert.ok(tinyText.includes("{{artifacts.pretrain}}"));

  const real = await quickstartExperiment("Qwen/Qwen2.5-0.5B-Instruct");
  const text = JSON.stringify(real);
  assert.ok(!text.includes("{{artifacts.pretrain}}"), "no step still reads the pretrained model");
  const steps = real.steps as { id: string }[];
  assert.ok(!steps.some((s) => s.id === "pretrain"));
  assert.equal(
    steps.length,
    (tiny.steps as unknown[]).length - 2,
    "no pretraining, no talk_traits",
  );
  const models = real.models as Record<string, { path?: string }>;
  assert.equal(models.base.path, "Qwen/Qwen2.5-0.5B-Instruct");
  assert.ok(!("tiny" in models));
  assert.equal(real.name, "quickstart-Qwen_Qwen2.5-0.5B-Instruct");
  // The world's ground-truth labeller only reads the world's language: the configured judge
  // (the lexicon valence judge) takes its place.
  assert.ok(!text.includes('"persona_world"'), "no step uses the world labeller");
  assert.ok(
    steps.some((s) => s.id === "sweep" && (s as { plugin?: string }).plugin === "lexicon_judge"),
  );
  // Still a valid experiment.
  parseExperiment(real, "quickstart.json");
});

Deno.test("tinyBaseIsCurrent() reuses a base only when it was made from the current world", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dramatis_tiny_base_" });
  try {
    for (const file of ["config.json", "model.safetensors", "tokenizer.json"]) {
      await Deno.writeTextFile(join(dir, file), "{}");
    }
    const digest = await recipeDigest("the keeper smiles\nthe baker frowns\n");
    assert.equal(await tinyBaseIsCurrent(dir, digest), false, "a file is missing");
    await Deno.writeTextFile(join(dir, "tokenizer_config.json"), "{}");
    assert.equal(await tinyBaseIsCurrent(dir, digest), false, "no recipe stamp (an older start)");
    await Deno.writeTextFile(join(dir, "quickstart_recipe.sha256"), digest + "\n");
    assert.equal(await tinyBaseIsCurrent(dir, digest), true);
    const other = await recipeDigest("the keeper smiles\nthe baker sings\n");
    assert.notEqual(other, digest);
    assert.equal(await tinyBaseIsCurrent(dir, other), false, "the world's corpus changed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
