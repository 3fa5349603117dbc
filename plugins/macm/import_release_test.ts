import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { errorCode } from "../../core/errors.ts";
import { loadCharacterDir } from "./character_dir.ts";
import { importHumanSimulacra } from "./import_release.ts";
import { parseQuestionnaire } from "./questionnaire.ts";

const RELEASE = new URL("../../../shared/upstream/human_simulacra/Characters", import.meta.url)
  .pathname;
const present = existsSync(RELEASE);
if (!present) console.warn(`skipped: ${RELEASE} is absent (../shared/upstream)`);

Deno.test('parseQuestionnaire() reads released cloze options [""] as none and rejects keys outside the options', () => {
  const [cloze] = parseQuestionnaire([
    { type: "Cloze", question: "What is your name?", options: [""], answer: ["Ada"] },
  ]);
  assert.deepEqual(cloze.options, []);
  const item = { type: "Single_choice", question: "Q?", options: ["A. x", "B. y"], answer: ["C"] };
  assert.throws(
    () => parseQuestionnaire([item], "q.json"),
    (e: Error) =>
      errorCode(e) === "E_DATA" &&
      /^q\.json: record 0: answer: \["C"\] is not among the options \(A, B\)/.test(e.message),
  );
  assert.throws(
    () => parseQuestionnaire([{ ...item, answer: ["A", "B"] }], "q.json"),
    /record 0: answer: is \["A","B"\]; a Single_choice item needs exactly one answer letter/,
  );
});

Deno.test({
  name: "importHumanSimulacra() writes one folder per released character and reports the gaps",
  ignore: !present,
  async fn() {
    const out = await Deno.makeTempDir();
    try {
      const chars = await importHumanSimulacra(RELEASE, out);
      assert.equal(chars.length, 11);
      const complete = chars.filter((c) => c.missing.length === 0).map((c) => c.name).sort();
      assert.deepEqual(complete, ["Erica Walker", "Kevin Kelly", "Mary Jones", "Sara Ochoa"]);
      const zero = chars.find((c) => c.id === "000")!;
      assert.equal(zero.name, "Marsh Zhaleh");
      assert.match(zero.notes.join("\n"), /"Tianqi Zhang" in character_profiles\.json/);
      assert.ok(zero.missing.some((m) => m.startsWith("memory")));
      for (const c of chars.filter((c) => complete.includes(c.name))) {
        const folder = await loadCharacterDir(c.dir);
        assert.equal(folder.profile.Name, c.name);
        assert.ok(folder.story.length > 0 && folder.biography.length > 0);
        assert.deepEqual(Object.keys(folder.questions).sort(), [
          "Cloze",
          "Multiple_choices",
          "Single_choice",
        ]);
        // The released memories, unchanged.
        const released = JSON.parse(
          await Deno.readTextFile(join(RELEASE, "Memories", c.name, "long_memory.json")),
        );
        assert.deepEqual(folder.memory?.long, released);
      }
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
