import assert from "node:assert/strict";
import { loadCharacterDir, SHIPPED_CHARACTERS_URL } from "./character_dir.ts";
import { scoreItem } from "./questionnaire.ts";

const dir = new URL("hazel_okafor/", SHIPPED_CHARACTERS_URL).pathname;

Deno.test("loadCharacterDir() reads the shipped character with valid keys", async () => {
  const c = await loadCharacterDir(dir);
  assert.equal(c.profile.Name, "Hazel Okafor");
  assert.ok(c.story.length >= 30);
  assert.equal(c.profile.Function_stack?.length, 8);
  assert.equal(c.memory, undefined);
  assert.equal(c.questions.Cloze.length, 5);
  for (const item of c.questions.Single_choice) {
    assert.equal(item.options.length, 4);
    assert.equal(item.answer.length, 1);
  }
  for (const item of c.questions.Multiple_choices) {
    assert.equal(item.options.length, 6);
    assert.equal(item.answer.length, 3);
    for (const a of item.answer) assert.ok(item.options.some((o) => o.startsWith(`${a}. `)));
  }
  // cloze keys agree with the profile: a reply stating the profile scores full marks
  const p = c.profile;
  const stated =
    `The answer is ${p.Name}, ${p.Gender}, ${p.Age}, ${p.Date_of_birth}, ${p.Occupation}`;
  for (const item of c.questions.Cloze) {
    assert.equal(scoreItem(item, stated).points, 2, item.question);
  }
  // maximum score 10 + 10 + 30
  const max = Object.values(c.questions).flat().reduce((s, i) => s + scoreItem(i, "").max, 0);
  assert.equal(max, 50);
});
