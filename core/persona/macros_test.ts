import assert from "node:assert/strict";
import { substituteMacros } from "./macros.ts";

const names = { char: "Ada", user: "Sam" };

Deno.test("substituteMacros() replaces {{char}} and {{user}} in any case", () => {
  assert.equal(
    substituteMacros("{{char}}/{{CHAR}}/{{Char}}/{{ user }}/{{USER}}", names),
    "Ada/Ada/Ada/Sam/Sam",
  );
});

Deno.test("substituteMacros() replaces legacy markers and leaves other macros", () => {
  assert.equal(
    substituteMacros("<BOT> and <user>; <char>. {{random}}", names),
    "Ada and Sam; Ada. {{random}}",
  );
});

Deno.test("substituteMacros() keeps $ patterns in names literal", () => {
  assert.equal(substituteMacros("hi {{user}}", { char: "x", user: "$&$1" }), "hi $&$1");
});
