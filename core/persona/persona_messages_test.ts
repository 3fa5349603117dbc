import assert from "node:assert/strict";
import { PersonaSchema } from "../contracts/persona.ts";
import { ScriptedChatModel } from "../chat/testing/mod.ts";
import { PersonaChatModel, personaRequest } from "./persona_chat_model.ts";
import { buildPersonaMessages } from "./persona_messages.ts";

const persona = PersonaSchema.parse({
  name: "mira",
  model: "./tiny",
  char_name: "Mira",
  user_name: "Sam",
  system_prompt: "You are {{char}}; {{user}} is aboard.",
  first_message: "Welcome, {{USER}}.",
  identities: ["EXT_high"],
  steering: [{ vector: "bold.safetensors", coefficient: 2, layer: 4 }],
});

Deno.test("buildPersonaMessages() puts system prompt, greeting and history in order", () => {
  const out = buildPersonaMessages(persona, [
    { role: "system", content: "client note" },
    { role: "user", content: "Hello {{char}}" },
  ]);
  assert.deepEqual(out, [
    { role: "system", content: "You are Mira; Sam is aboard." },
    { role: "system", content: "client note" },
    { role: "assistant", content: "Welcome, Sam." },
    { role: "user", content: "Hello {{char}}" },
  ]);
});

Deno.test("buildPersonaMessages() skips the greeting when the history opens with it", () => {
  const out = buildPersonaMessages(persona, [
    { role: "assistant", content: "Welcome, Sam." },
    { role: "user", content: "hi" },
  ], { userName: "Kim" });
  assert.equal(out.length, 3);
  assert.equal(out[0].content, "You are Mira; Kim is aboard.");
});

Deno.test("personaRequest() merges steering and lets request identities win", () => {
  const extra = { vector: "calm.safetensors", coefficient: -1, layer: 2 };
  const r = personaRequest(persona, {
    messages: [],
    steering: [extra],
    extensions: { identities: ["Doctor"], other: 1 },
  });
  assert.deepEqual(r.steering?.map((s) => "vector" in s && s.vector), [
    "bold.safetensors",
    "calm.safetensors",
  ]);
  assert.deepEqual(r.extensions, { identities: ["Doctor"], other: 1 });
  assert.deepEqual(personaRequest(persona, { messages: [] }).extensions, {
    identities: ["EXT_high"],
  });
  const bare = personaRequest({ ...persona, identities: [] }, { messages: [] });
  assert.equal("extensions" in bare, false);
  assert.equal(r.model, "./tiny");
});

Deno.test("PersonaChatModel sends the persona messages and answers as the persona", async () => {
  const base = new ScriptedChatModel();
  const model = new PersonaChatModel(persona, base);
  const r = await model.chat({ messages: [{ role: "user", content: "hi" }] });
  assert.equal(r.model, "mira");
  assert.equal(base.calls[0].messages.length, 3);
  for await (const c of model.stream({ messages: [{ role: "user", content: "hi" }] })) {
    assert.equal(c.model, "mira");
  }
});
