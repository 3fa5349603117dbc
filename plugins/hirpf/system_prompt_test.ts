import assert from "node:assert/strict";
import {
  buildSystemPrompt,
  DEFAULT_PROMPT_TEMPLATES,
  indefiniteArticle,
  PromptTemplatesSchema,
} from "./system_prompt.ts";

const T = DEFAULT_PROMPT_TEMPLATES;

Deno.test("buildSystemPrompt() writes profession, traits in order and the 'both' closing", () => {
  assert.equal(
    buildSystemPrompt(["Artist", "AGR_high", "OPE_low"]),
    "You are an artist with high agreeableness, low openness. " + T.closing.both,
  );
});

Deno.test("buildSystemPrompt() keeps emotional-stability wording", () => {
  assert.equal(
    buildSystemPrompt(["EMS_high"]),
    "You are a human with high emotional stability. " + T.closing.traits,
  );
});

Deno.test("buildSystemPrompt() covers profession-only and empty identities", () => {
  assert.equal(buildSystemPrompt(["Doctor"]), "You are a doctor. " + T.closing.profession);
  assert.equal(buildSystemPrompt([]), "You are a human. " + T.closing.neither);
});

Deno.test("buildSystemPrompt() uses custom templates", () => {
  const t = PromptTemplatesSchema.parse({
    ...T,
    identity_with_profession: "Role: {profession}",
    trait: "{factor}={polarity}",
    traits_prefix: "; ",
  });
  assert.equal(
    buildSystemPrompt(["CON_low", "Programmer"], t),
    "Role: programmer; conscientiousness=low. " + T.closing.both,
  );
});

Deno.test("indefiniteArticle() picks an before vowels", () => {
  assert.equal(indefiniteArticle("artist"), "an");
  assert.equal(indefiniteArticle("Doctor"), "a");
});
