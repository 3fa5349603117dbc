import assert from "node:assert/strict";
import { roleplayOptionsSchema, simulatorOptionsFrom } from "./options.ts";

Deno.test("roleplayOptionsSchema defaults follow the reference configuration", () => {
  const o = roleplayOptionsSchema.parse({});
  assert.equal(o.numTurns, 12);
  assert.equal(o.seed, 5);
  assert.deepEqual(o.personas, { mode: "fixed" });
  assert.equal(o.inquirerMaxN, 4);
  assert.equal(o.responderMaxN, 5);
  assert.equal(o.nonCoherentR, 2);
  assert.equal(o.regenerateTries, null);
  assert.equal(o.inquirerMaxTokens, 1000);
  assert.equal(o.responderMaxTokens, 4000);
  assert.equal(o.inquirerContextLength, 8192);
  assert.equal(roleplayOptionsSchema.safeParse({ numTurns: 0 }).success, false);
});

Deno.test("simulatorOptionsFrom() maps every simulator field and leaves run fields out", () => {
  const o = roleplayOptionsSchema.parse({
    numTurns: 3,
    stopToken: "DONE",
    responderContextLength: 2048,
    inquirerTemperature: 0.7,
    responderTemperature: 0,
    regenerateTries: 2,
  });
  const s = simulatorOptionsFrom(o);
  assert.deepEqual(s, {
    numTurns: 3,
    stopToken: "DONE",
    inquirerMaxN: 4,
    responderMaxN: 5,
    nonCoherentR: 2,
    promptIndex: 0,
    regenerateTries: 2,
    inquirerMaxTokens: 1000,
    responderMaxTokens: 4000,
    inquirerContextLength: 8192,
    responderContextLength: 2048,
    inquirerHistory: "prompt_and_extract",
    cutSelfReplies: false,
    inquirerSampling: { temperature: 0.7 },
    responderSampling: { temperature: 0 },
  });
  const plain = simulatorOptionsFrom(roleplayOptionsSchema.parse({}));
  assert.equal("responderContextLength" in plain, false);
  assert.equal("inquirerSampling" in plain, false);
});
