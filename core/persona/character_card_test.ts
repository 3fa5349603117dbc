import assert from "node:assert/strict";
import { errorCode } from "../errors.ts";
import {
  cardSystemPrompt,
  importCharacterCard,
  parseCharacterCard,
  personaNameFor,
  readCharacterCard,
} from "./character_card.ts";
import { textChunk, tinyPng } from "./png_chunks.ts";

const v2 = {
  spec: "chara_card_v2",
  spec_version: "2.0",
  data: {
    name: "Captain Mira",
    description: "{{char}} commands the airship Kestrel.",
    personality: "bold, dry humour",
    scenario: "{{user}} has just boarded the Kestrel.",
    first_mes: "Welcome aboard, {{user}}.",
    mes_example: "<START>\n{{user}}: Where are we headed?\n{{char}}: North, into the storm.",
    system_prompt: "",
    creator_notes: "",
    alternate_greetings: ["Ahoy."],
    tags: ["adventure"],
    creator: "tester",
    character_version: "1",
    extensions: {},
  },
};

function b64(value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return btoa(String.fromCharCode(...bytes));
}

Deno.test("importCharacterCard() maps a V2 JSON card into a persona", async () => {
  const persona = await importCharacterCard(new TextEncoder().encode(JSON.stringify(v2)), {
    model: "./tiny",
  });
  assert.equal(persona.name, "Captain_Mira");
  assert.equal(persona.char_name, "Captain Mira");
  assert.equal(persona.first_message, "Welcome aboard, {{user}}.");
  assert.equal(persona.model, "./tiny");
  const expected = [
    "You are {{char}}. Stay in character and write {{char}}'s next reply in this conversation with {{user}}.",
    "{{char}} commands the airship Kestrel.",
    "{{char}}'s personality: bold, dry humour",
    "Scenario: {{user}} has just boarded the Kestrel.",
    "Example dialogue between {{char}} and {{user}}:\n{{user}}: Where are we headed?\n{{char}}: North, into the storm.",
  ].join("\n\n");
  assert.equal(persona.system_prompt, expected);
  assert.equal(
    (persona.metadata.card as { alternate_greetings: string[] }).alternate_greetings[0],
    "Ahoy.",
  );
  assert.equal(persona.metadata.source, "chara_card_v2");
});

Deno.test("readCharacterCard() reads a V2 card from a PNG chara chunk", () => {
  const png = tinyPng([textChunk("chara", b64(v2))]);
  const card = readCharacterCard(png, "mira.png");
  assert.equal(card.spec, "chara_card_v2");
  assert.deepEqual(card, parseCharacterCard(v2));
});

Deno.test("readCharacterCard() prefers the ccv3 chunk and binds {{char}} to the nickname", async () => {
  const v3 = {
    spec: "chara_card_v3",
    spec_version: "3.0",
    data: { ...v2.data, nickname: "Mira", assets: [] },
  };
  const png = tinyPng([textChunk("chara", b64(v2)), textChunk("ccv3", b64(v3))]);
  const persona = await importCharacterCard(png, { model: "m", name: "mira" });
  assert.equal(persona.metadata.source, "chara_card_v3");
  assert.equal(persona.char_name, "Mira");
  assert.equal(persona.name, "mira");
});

Deno.test("parseCharacterCard() accepts V1 and rejects unknown specs with the field", () => {
  assert.equal(parseCharacterCard({ name: "Old", description: "x" }).spec, "chara_card_v1");
  assert.throws(
    () => parseCharacterCard({ spec: "something" }, "x.json"),
    /x\.json: spec is "something"/,
  );
  assert.throws(
    () => parseCharacterCard({ spec: "chara_card_v2", data: { name: "" } }, "x.json"),
    (e) => errorCode(e) === "E_CONFIG" && /field data\.name/.test((e as Error).message),
  );
  assert.throws(() => readCharacterCard(tinyPng(), "plain.png"), /no 'chara' or 'ccv3'/);
});

Deno.test("cardSystemPrompt() expands {{original}} in a card's own system prompt", () => {
  const card = parseCharacterCard({
    ...v2,
    data: { ...v2.data, system_prompt: "{{original}} Be terse." },
  });
  assert.match(cardSystemPrompt(card.data), /^You are \{\{char\}\}\. .* Be terse\.\n\n/);
});

Deno.test("personaNameFor() makes a valid persona name", () => {
  assert.equal(personaNameFor("Zoë the Bold!"), "Zoe_the_Bold");
  assert.equal(personaNameFor("***"), "character");
});
