import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { canonicalJson, sha256Hex } from "./canonical_json.ts";

Deno.test("canonicalJson() sorts keys at every depth and drops undefined", () => {
  const a = canonicalJson({ b: 1, a: [2, { d: undefined, c: 3 }] });
  const b = canonicalJson({ a: [2, { c: 3 }], b: 1 });
  assert.equal(a, '{"a":[2,{"c":3}],"b":1}');
  assert.equal(a, b);
});

Deno.test("canonicalJson() rejects non-finite numbers", () => {
  assert.throws(() => canonicalJson({ x: NaN }), TypeError);
});

Deno.test("sha256Hex() matches node:crypto", async () => {
  for (const s of ["", "abc", "héllo wörld"]) {
    assert.equal(await sha256Hex(s), createHash("sha256").update(s).digest("hex"));
  }
});
