import assert from "node:assert/strict";
import {
  assistantTurn,
  bookCharacter,
  coserChatSystemPrompt,
  renderReply,
  replySegments,
  userTurn,
} from "./chat_character.ts";
import { parseBook } from "./schemas.ts";

const book = parseBook({
  plots: [{
    text: "t",
    summary: "s",
    key_characters: [{ name: "Ada Venn", description: "The keeper's sister.", summary: "x" }],
  }],
  character_datasets: { "Tom Venn": { profile: "A lighthouse keeper on a rock." } },
});

Deno.test("bookCharacter() finds a character by name, falls back to plot descriptions, and lists names", () => {
  assert.deepEqual(bookCharacter(book, "tom venn", "The Light"), {
    name: "Tom Venn",
    book: "The Light",
    profile: "A lighthouse keeper on a rock.",
  });
  assert.equal(bookCharacter(book, "Ada Venn", "The Light").profile, "The keeper's sister.");
  assert.throws(
    () => bookCharacter(book, "Venn", "The Light"),
    /--character "Venn" is not a character of The Light; use one of Ada Venn, Tom Venn/,
  );
});

Deno.test("coserChatSystemPrompt() casts the character with profile, scenario and the bracket rules", () => {
  const p = coserChatSystemPrompt(bookCharacter(book, "Tom Venn", "The Light"), {
    scenario: "A storm at night.",
    userName: "Ada Venn",
  });
  assert.ok(p.startsWith("Play the role of Tom Venn from The Light.\n\n===Tom Venn's Profile==="));
  assert.ok(p.includes("===Current Scenario===\nA storm at night."));
  assert.ok(p.includes("square brackets [like this]") && p.includes("round brackets"));
  assert.ok(p.includes('Begin your reply with "Tom Venn: "'));
  assert.equal(userTurn("(knocks) Tom?", "Ada Venn"), "Ada Venn: (knocks) Tom?");
  assert.equal(userTurn("Tom?"), "Tom?");
});

Deno.test("replySegments() splits thoughts, actions and speech in order and drops the name prefix", () => {
  const reply =
    "Tom Venn: [She must not see my fear.] Hush. (lights the lamp) The sea (it roars) is loud.";
  assert.deepEqual(replySegments(reply, "Tom Venn"), [
    { kind: "thought", text: "She must not see my fear." },
    { kind: "speech", text: "Hush." },
    { kind: "action", text: "lights the lamp" },
    { kind: "speech", text: "The sea" },
    { kind: "action", text: "it roars" },
    { kind: "speech", text: "is loud." },
  ]);
  assert.deepEqual(replySegments("an [unclosed thought", "X"), [
    { kind: "speech", text: "an [unclosed thought" },
  ]);
  assert.equal(
    renderReply(replySegments(reply, "Tom Venn"), "Tom Venn", false),
    "Tom Venn: [She must not see my fear.] Hush. (lights the lamp) The sea (it roars) is loud.",
  );
  const colored = renderReply(
    [{ kind: "thought", text: "a" }, { kind: "action", text: "b" }],
    "T",
    true,
  );
  assert.ok(colored.includes("\x1b[2;3m[a]\x1b[0m") && colored.includes("\x1b[36m(b)\x1b[0m"));
  assert.deepEqual(assistantTurn("Hi.", "Tom"), { role: "assistant", content: "Tom: Hi." });
  assert.deepEqual(assistantTurn("Tom: Hi.", "Tom"), { role: "assistant", content: "Tom: Hi." });
});
