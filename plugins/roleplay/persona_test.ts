import assert from "node:assert/strict";
import {
  fixedPersonas,
  makePersona,
  PERSONA_FEATURE_VALUES,
  pythonDictRepr,
  randomPersonas,
} from "./persona.ts";

const features = {
  age: "a 25 to 34",
  race: "White",
  gender: "Female",
  education: "Master's degree",
  native_english: "is",
};

Deno.test("pythonDictRepr() writes Python's str() of a dict, double-quoting values with '", () => {
  assert.equal(
    pythonDictRepr(features),
    `{'age': 'a 25 to 34', 'race': 'White', 'gender': 'Female', 'education': "Master's degree", 'native_english': 'is'}`,
  );
  assert.equal(pythonDictRepr({ q: `it's "x"` }), `{'q': 'it\\'s "x"'}`);
});

Deno.test("makePersona() renders the sentence and the reference md5 hash", () => {
  const p = makePersona(features);
  assert.equal(
    p.persona,
    "a 25 to 34-year-old White individual with a Female gender identity, holding Master's degree and English is your native language",
  );
  // hashlib.md5(str(features).encode()).hexdigest() computed with Python 3
  assert.equal(p.persona_hash, "c28691fbc94b5b81f8e7c53a0b14c128");
});

Deno.test("makePersona() rejects a missing feature with E_DATA", () => {
  const { race: _race, ...rest } = features;
  assert.throws(
    () => makePersona(rest as typeof features),
    (e: Error & { code?: string }) =>
      e instanceof TypeError && e.code === "E_DATA" && /race/.test(e.message),
  );
});

Deno.test("fixedPersonas() gives the 20 reference personas", () => {
  const ps = fixedPersonas();
  assert.equal(ps.length, 20);
  assert.equal(ps[1].persona_hash, "c28691fbc94b5b81f8e7c53a0b14c128");
  assert.equal(ps.filter((p) => p.features.gender === "Female").length, 4);
});

Deno.test("randomPersonas() repeats for a seed and draws only known values", () => {
  const a = randomPersonas(5, 73), b = randomPersonas(5, 73), c = randomPersonas(5, 321);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.map((p) => p.persona_hash), c.map((p) => p.persona_hash));
  for (const p of randomPersonas(50, 1)) {
    for (const [k, v] of Object.entries(p.features)) {
      assert.ok(PERSONA_FEATURE_VALUES[k as keyof typeof features].includes(v));
    }
  }
});
