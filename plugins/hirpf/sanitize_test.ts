import assert from "node:assert/strict";
import { canonicalIdentity, sanitizeIdentities } from "./sanitize.ts";

Deno.test("canonicalIdentity() inverts emotional stability onto neuroticism", () => {
  assert.equal(canonicalIdentity("EMS_high"), "NEU_low");
  assert.equal(canonicalIdentity("EMS_low"), "NEU_high");
  assert.equal(canonicalIdentity("NEU_high"), "NEU_high");
  assert.equal(canonicalIdentity("Doctor"), "Doctor");
});

Deno.test("sanitizeIdentities() keeps the first profession and the first polarity per factor", () => {
  assert.deepEqual(
    sanitizeIdentities(["Artist", "AGR_high", "Doctor", "AGR_low", "OPE_low", "hello", "XYZ_high"]),
    ["Artist", "AGR_high", "OPE_low"],
  );
});

Deno.test("sanitizeIdentities() does not validate the suffix and stops at six", () => {
  assert.deepEqual(sanitizeIdentities(["AGR_medium"]), ["AGR_medium"]);
  const many = ["AGR_high", "CON_low", "EXT_high", "NEU_low", "OPE_high", "Doctor", "Artist"];
  assert.deepEqual(sanitizeIdentities([...many.slice(0, 5), "Programmer", "Doctor"]), [
    "AGR_high",
    "CON_low",
    "EXT_high",
    "NEU_low",
    "OPE_high",
    "Programmer",
  ]);
});

Deno.test("sanitizeIdentities() maps EMS labels unless told not to", () => {
  assert.deepEqual(sanitizeIdentities(["EMS_high", "NEU_high"]), ["NEU_low"]);
  assert.deepEqual(sanitizeIdentities(["EMS_high"], { canonicalize: false }), []);
});

Deno.test("sanitizeIdentities() uses the default only for an empty request", () => {
  assert.deepEqual(sanitizeIdentities([], { defaultIfEmpty: ["Artist"] }), ["Artist"]);
  assert.deepEqual(sanitizeIdentities(undefined, { defaultIfEmpty: ["Artist"] }), ["Artist"]);
  assert.deepEqual(sanitizeIdentities(["nonsense"], { defaultIfEmpty: ["Artist"] }), []);
});

Deno.test("sanitizeIdentities() honours a custom profession list", () => {
  assert.deepEqual(sanitizeIdentities(["Chef", "Doctor"], { professions: ["Chef"] }), ["Chef"]);
});
