import assert from "node:assert/strict";
import { splitChapters } from "./construction/chunking.ts";
import { parseTestSet } from "./schemas.ts";
import { speakersByFrequency } from "./transform/test_records.ts";

Deno.test("data/test_records.json holds two valid CoSER records with consistent speaker lists", async () => {
  const raw = JSON.parse(
    await Deno.readTextFile(new URL("./data/test_records.json", import.meta.url)),
  );
  const records = parseTestSet(raw);
  assert.equal(records.length, 2);
  for (const r of records) {
    assert.deepEqual(r.speaking_characters_w_env, speakersByFrequency(r.dialogues));
    for (const m of r.major_characters) assert.ok(r.character_profiles[m]?.length > 100, m);
    assert.ok(r.dialogues.length >= 9);
  }
  // one record uses the released field names, the other the ones the code reads
  assert.deepEqual(records.map((r) => r.fields.motivation), ["thought", "motivation"]);
});

Deno.test("data/story.txt is a few thousand words in more than five chapters", async () => {
  const story = await Deno.readTextFile(new URL("./data/story.txt", import.meta.url));
  const words = story.split(/\s+/).filter((w) => w).length;
  assert.ok(words > 2500 && words < 6000, String(words));
  assert.ok(splitChapters(story).length > 5);
});
