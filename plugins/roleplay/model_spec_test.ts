import assert from "node:assert/strict";
import { modelShortName } from "./model_spec.ts";

Deno.test("modelShortName() gives folder-safe names", () => {
  assert.equal(modelShortName("http://h:8000/v1#mistralai/Mixtral-8x7B"), "Mixtral-8x7B");
  assert.equal(modelShortName("openai:gpt-4o"), "gpt-4o");
  assert.equal(modelShortName("persona:./personas/ada.json"), "ada");
  assert.equal(modelShortName("models/tiny/"), "tiny");
  assert.equal(modelShortName("openai:a b:c"), "a_b_c");
});
