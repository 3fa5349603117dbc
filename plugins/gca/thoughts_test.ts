import assert from "node:assert/strict";
import { removeThoughts, splitMessage } from "./thoughts.ts";

Deno.test("removeThoughts() drops bracketed thoughts within lines and empty lines", () => {
  assert.equal(
    removeThoughts("[He lies.] (smiles) Fine.\n\n[Sigh]\n  Really.  "),
    "(smiles) Fine.\nReally.",
  );
  // a bracket never spans lines: "[open" stays
  assert.equal(removeThoughts("[open\nclose] x"), "[open\nclose] x");
  assert.equal(removeThoughts("a [x] b [y] c"), "a  b  c");
});

Deno.test("removeThoughts() drops multi-line thinking blocks", () => {
  const t = "<think>plan\nmore</think>Hello.\n<role_thinking>hm</role_thinking> Bye.\n" +
    "<system_thinking>\n...\n</system_thinking>";
  assert.equal(removeThoughts(t), "Hello.\nBye.");
});

Deno.test("splitMessage() separates thoughts, actions and speech", () => {
  assert.deepEqual(splitMessage("[Stay calm.] (sits down) Gone? (frowns) Surely not."), {
    thoughts: ["Stay calm."],
    actions: ["sits down", "frowns"],
    speech: "Gone? Surely not.",
  });
});
