import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { parseGoals } from "./goals.ts";
import { fixedPersonas, pythonDictRepr } from "./persona.ts";
import { configPersona, loadUpstreamConfig } from "./upstream_config.ts";

const CONFIG = new URL(
  "../../../shared/upstream/llm_roleplay/configs/action_config/dialogue_generator.yaml",
  import.meta.url,
).pathname;
const present = existsSync(CONFIG);
if (!present) console.warn(`skipped: ${CONFIG} is absent (../shared/upstream)`);

// md5(str(person)) of the 20 fixed personas, computed with CPython (hashlib.md5(str(d).encode())
// over the YAML's person mappings), the reference implementation's persona hash.
const REFERENCE_HASHES = [
  "4c5b530fcb3ca3c4b28ed3e606f206d8",
  "c28691fbc94b5b81f8e7c53a0b14c128",
  "d2f96ebf0d2cdc7c2dd59b570af2cd68",
  "4c5b530fcb3ca3c4b28ed3e606f206d8",
  "d2f96ebf0d2cdc7c2dd59b570af2cd68",
  "4c5b530fcb3ca3c4b28ed3e606f206d8",
  "4f75e81acf993a336ccd5fb8f376a4b8",
  "4c5b530fcb3ca3c4b28ed3e606f206d8",
  "665533088fdeea587e6c02834ee9a282",
  "d2f96ebf0d2cdc7c2dd59b570af2cd68",
  "3c60a0bab327e46f6ecc24fd7d3dda26",
  "4c5b530fcb3ca3c4b28ed3e606f206d8",
  "3c60a0bab327e46f6ecc24fd7d3dda26",
  "8efb75bb268859950e845fc06f801d45",
  "d2f96ebf0d2cdc7c2dd59b570af2cd68",
  "9c5f243faed6c9d02e66e1929525ca79",
  "d2f96ebf0d2cdc7c2dd59b570af2cd68",
  "73991a637b4326d5a50d2fc66cd64311",
  "e600252417d609fb953ac7df020e14c6",
  "c8ae157efb92e495e145a68968008e5c",
];

Deno.test("pythonDictRepr() writes Python's str() of a dict, quotes and escapes included", () => {
  assert.equal(
    pythonDictRepr({ education: "Master's degree", a: "b'c\"d", n: "x\ny" }),
    `{'education': "Master's degree", 'a': 'b\\'c"d', 'n': 'x\\ny'}`,
  );
});

Deno.test("the shipped fixed personas hash like the reference implementation", () => {
  assert.deepEqual(fixedPersonas().map((p) => p.persona_hash), REFERENCE_HASHES);
});

Deno.test("parseGoals() accepts instruction-only goals", () => {
  const goals = parseGoals('{"instruction": "You want tea."}\n{"instruction": "You want jam."}\n');
  assert.deepEqual(goals.map((g) => [g.id, g.kind]), [["goal-0", "custom"], ["goal-1", "custom"]]);
});

Deno.test({
  name: "loadUpstreamConfig() reads the released dialogue_generator.yaml with reference hashes",
  ignore: !present,
  async fn() {
    const c = await loadUpstreamConfig(CONFIG);
    assert.equal(c.goals.length, 10);
    assert.match(c.goals[0].instruction, /^You want to know how fast you run different distances/);
    assert.equal(c.personaMode, "fixed");
    assert.deepEqual(c.personas.map((p) => p.persona_hash), REFERENCE_HASHES);
    assert.equal(
      c.personas[0].persona,
      "a 25 to 34-year-old White individual with a Male gender identity, holding Master's degree " +
        "and English is not your native language",
    );
    assert.deepEqual([c.numTurns, c.stopToken, c.seed], [12, "FINISH", 5]);
    // The same hash for the same mapping, whatever path built it.
    assert.equal(
      configPersona({ ...c.personas[1].features }, "x").persona_hash,
      c.personas[1].persona_hash,
    );
  },
});
