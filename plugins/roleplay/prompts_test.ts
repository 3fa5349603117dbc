import assert from "node:assert/strict";
import {
  inquirerSystemPrompt,
  inquirerTurnPrompt,
  RESPONDER_TEMPLATE,
  responderTurnPrompt,
} from "./prompts.ts";

Deno.test("inquirerSystemPrompt() fills the persona and the stop token", () => {
  const s = inquirerSystemPrompt("a 45 to 54-year-old person");
  assert.ok(s.startsWith("You are a 45 to 54-year-old person."));
  assert.ok(s.includes('"FINISH"'));
  assert.ok(!s.includes("<"));
});

Deno.test("inquirerTurnPrompt() puts the goal at turn 0 and quotes the answer later", () => {
  const first = inquirerTurnPrompt(0, null, "You want tea");
  assert.ok(first.includes("You want tea."));
  assert.ok(first.includes("double quotes"));
  const later = inquirerTurnPrompt(3, "Boil $& water.", "You want tea");
  assert.ok(later.endsWith('\n\n"Boil $& water."'));
  assert.ok(!later.includes("You want tea"));
  assert.throws(() => inquirerTurnPrompt(1, null, "g"), TypeError);
});

Deno.test("responderTurnPrompt() passes the extracted prompt through", () => {
  assert.equal(responderTurnPrompt(0, "what is 2+2?"), "what is 2+2?");
  assert.equal(responderTurnPrompt(4, "and 3+3?"), "and 3+3?");
  assert.equal(
    responderTurnPrompt(1, "x", { ...RESPONDER_TEMPLATE, nthTurnInput: "[Q] <USER_MSG>" }),
    "[Q] x",
  );
});
