import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { errorCode } from "../../../core/errors.ts";
import { DEFAULT_PROFESSIONS } from "../identities.ts";
import {
  loadProfessionScale,
  loadSituationalTests,
  parseProfessionScale,
  parseSituationalTests,
} from "./his_benchmark.ts";
import { SituationalTestSchema } from "./items.ts";

const BENCH = new URL("../../../../shared/upstream/his/benchmark/", import.meta.url).pathname;
const present = existsSync(BENCH);
if (!present) console.warn(`skipped: ${BENCH} is absent (../shared/upstream)`);

Deno.test("parseProfessionScale() and parseSituationalTests() name file, record and field", () => {
  assert.throws(
    () =>
      parseProfessionScale(
        [{ question: "I can.", profession: "Doctor" }, { question: "" }],
        "p.json",
      ),
    (e: Error) =>
      errorCode(e) === "E_DATA" && /^p\.json: record 1: question: is ""/.test(e.message),
  );
  assert.throws(
    () => parseProfessionScale([{ question: "I can.", profession: "Chef" }], "p.json", ["Doctor"]),
    /record 0: profession: "Chef" is not one of the plugin's professions \(Doctor\)/,
  );
  assert.throws(
    () => parseSituationalTests({ Openness: { Scenario: "S", NPC_Setting: "N" } }, "s.json"),
    /^TypeError: s\.json: record 0 \("Openness"\): NPC_prompt: is undefined/,
  );
});

Deno.test({
  name: "HIS's published profession scale and situational tests load as released",
  ignore: !present,
  async fn() {
    const items = await loadProfessionScale(`${BENCH}profession_scale.json`, DEFAULT_PROFESSIONS);
    assert.equal(items.length, 60);
    const released = JSON.parse(await Deno.readTextFile(`${BENCH}profession_scale.json`));
    assert.deepEqual(
      items.map((i) => i.statement),
      released.map((r: { question: string }) => r.question),
    );
    assert.deepEqual(
      [...new Set(items.map((i) => i.profession))].sort(),
      ["Artist", "Doctor", "Programmer"],
    );
    const tests = await loadSituationalTests(
      `${BENCH}open_situational_test.json`,
      DEFAULT_PROFESSIONS,
    );
    assert.deepEqual(tests.map((t) => t.dimension), [
      "OPE",
      "CON",
      "EXT",
      "AGR",
      "NEU",
      "Artist",
      "Programmer",
      "Doctor",
    ]);
    for (const t of tests) assert.ok(SituationalTestSchema.safeParse(t).success);
  },
});
