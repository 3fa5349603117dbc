import assert from "node:assert/strict";
import {
  allIdentities,
  groupsForLayer,
  identityGroups,
  parseIdentity,
  TRAIT_IDENTITIES,
  validateProfessions,
} from "./identities.ts";

Deno.test("TRAIT_IDENTITIES lists the ten polarities in canonical order", () => {
  assert.deepEqual(TRAIT_IDENTITIES, [
    "AGR_high",
    "AGR_low",
    "CON_high",
    "CON_low",
    "EXT_high",
    "EXT_low",
    "NEU_high",
    "NEU_low",
    "OPE_high",
    "OPE_low",
  ]);
  assert.equal(allIdentities().length, 13);
  assert.equal(allIdentities()[11], "Artist");
});

Deno.test("identityGroups() merges for flat and splits otherwise", () => {
  assert.deepEqual(identityGroups("flat").map((g) => g.length), [13]);
  assert.deepEqual(identityGroups("alternate")[1], ["Doctor", "Artist", "Programmer"]);
  assert.deepEqual(identityGroups("layered", ["Chef"])[1], ["Chef"]);
  assert.deepEqual(identityGroups("layered", []).length, 1);
});

Deno.test("groupsForLayer() maps layers for each insert mode", () => {
  assert.deepEqual(groupsForLayer(0, "flat", 32), [0]);
  assert.deepEqual(groupsForLayer(31, "flat", 32), [0]);
  assert.deepEqual(groupsForLayer(0, "alternate", 32), [0]);
  assert.deepEqual(groupsForLayer(1, "alternate", 32), [1]);
  assert.deepEqual(groupsForLayer(30, "alternate", 32), [0]);
  assert.deepEqual(groupsForLayer(5, "alternate", 32, 3), [2]);
  assert.deepEqual(groupsForLayer(7, "layered", 32), [0, 1]);
  const evens = Array.from({ length: 32 }, (_, i) => groupsForLayer(i, "alternate", 32)[0])
    .filter((g) => g === 0).length;
  assert.equal(evens, 16);
});

Deno.test("groupsForLayer() rejects out-of-range layers and unknown modes", () => {
  assert.throws(
    () => groupsForLayer(32, "flat", 32),
    /layer is 32; pass a 0-based block index in 0..31/,
  );
  assert.throws(() => groupsForLayer(-1, "layered", 4), RangeError);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => groupsForLayer(0, "stacked" as any, 4), /insert mode is "stacked"/);
});

Deno.test("parseIdentity() recognises traits and professions", () => {
  assert.deepEqual(parseIdentity("CON_high"), {
    kind: "trait",
    name: "CON_high",
    factor: "CON",
    polarity: "high",
  });
  assert.deepEqual(parseIdentity("Doctor"), { kind: "profession", name: "Doctor" });
  assert.equal(parseIdentity("EMS_high"), undefined);
  assert.equal(parseIdentity("AGR_medium"), undefined);
});

Deno.test("validateProfessions() rejects underscores and duplicates", () => {
  assert.throws(
    () => validateProfessions(["Data_Scientist"]),
    /"Data_Scientist" is not a plain name/,
  );
  assert.throws(() => validateProfessions(["Chef", "Chef"]), /listed twice/);
});
