import assert from "node:assert/strict";
import { join } from "node:path";
import { ScriptedChatModel } from "../../core/chat/testing/mod.ts";
import { errorCode } from "../../core/errors.ts";
import { PersonaSchema } from "../../core/contracts/persona.ts";
import { PersonaChatModel } from "../../core/persona/persona_chat_model.ts";
import { conversationTurns, macmBackend } from "./backend.ts";
import { saveMemory } from "./memory_build.ts";

Deno.test("conversationTurns() pairs earlier turns and takes the last user message", () => {
  assert.deepEqual(
    conversationTurns([
      { role: "system", content: "ignored" },
      { role: "assistant", content: "Welcome." },
      { role: "user", content: "a" },
      { role: "user", content: "b" },
      { role: "assistant", content: "B!" },
      { role: "user", content: "q" },
    ]),
    {
      query: "q",
      history: [{ other: "", you: "Welcome." }, { other: "a", you: "" }, { other: "b", you: "B!" }],
    },
  );
  assert.throws(
    () => conversationTurns([{ role: "user", content: "a" }, { role: "assistant", content: "b" }]),
    (e) => errorCode(e) === "E_USAGE",
  );
});

Deno.test("macmBackend() answers each turn with five calls and a list rebuilt per turn", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const entry = (s: string) => ({
      Memory_Summary: s,
      Memory: { "Memory Content": `content ${s}`, Thinking: "t", Emotion: "e" },
    });
    await saveMemory(join(dir, "memory"), {
      index: { "001": "sorting mail", "002": "pottery class" },
      long: { "001": entry("sorting mail"), "002": entry("pottery class") },
    });
    const base = new ScriptedChatModel({
      reply: (r) =>
        r.messages[0].content.startsWith("You help find")
          ? 'Most relevant: "002"'
          : `reply ${r.messages.length}`,
    });
    const persona = PersonaSchema.parse({
      name: "hazel",
      model: "./tiny",
      system_prompt: "ignored by MACM",
    });
    const backend = macmBackend({ temperature: 0.3 })(persona, base, {
      memory: join(dir, "memory"),
      agentMaxTokens: 7,
    });
    const model = new PersonaChatModel(persona, backend);
    const first = await model.chat({ messages: [{ role: "user", content: "Hi" }], max_tokens: 9 });
    assert.equal(base.calls.length, 5); // two retrieval halves, thinking, emotion, final
    assert.deepEqual(base.calls.slice(0, 4).map((c) => c.max_tokens), [7, 7, 7, 7]);
    const final1 = base.calls[4];
    assert.equal(final1.max_tokens, 9);
    assert.equal(final1.temperature, 0.3);
    assert.deepEqual(final1.messages.map((m) => m.role), [
      "system",
      "system",
      "user",
      "system",
      "system",
    ]);
    assert.match(final1.messages[3].content, /content pottery class/);
    assert.equal(first.model, "hazel");
    const trace = first.metadata!.macm as { memory_agent: { candidate_ids: string[] } };
    assert.deepEqual(trace.memory_agent.candidate_ids, ["002"]);
    assert.ok(first.usage.prompt_tokens > 0);
    assert.equal(
      first.usage.total_tokens,
      first.usage.prompt_tokens + first.usage.completion_tokens,
    );

    await model.chat({
      messages: [
        { role: "user", content: "Hi" },
        { role: "assistant", content: first.choices[0].message.content },
        { role: "user", content: "And then?" },
      ],
    });
    const final2 = base.calls[9];
    // same shape: the earlier turn's memory and cognition are not carried over
    assert.equal(final2.messages.length, final1.messages.length);
    assert.match(final2.messages[1].content, /The other person: Hi\nYou: reply 5/);
    assert.equal(final2.messages[2].content, "And then?");

    let streamed = "";
    for await (const c of model.stream({ messages: [{ role: "user", content: "Hi" }] })) {
      streamed += c.choices[0]?.delta.content ?? "";
    }
    assert.equal(streamed, "reply 5");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("macmBackend() rejects unknown options and a macm persona without memory", async () => {
  const persona = PersonaSchema.parse({ name: "x", model: "./tiny" });
  assert.throws(
    () => macmBackend()(persona, new ScriptedChatModel(), { charakter: "./c" }),
    (e) => errorCode(e) === "E_CONFIG" && /backend\.options/.test((e as Error).message),
  );
  const model = macmBackend()(persona, new ScriptedChatModel(), {});
  await assert.rejects(
    model.chat({ messages: [{ role: "user", content: "hi" }] }),
    (e) => errorCode(e) === "E_CONFIG" && /build-memory/.test((e as Error).message),
  );
});
