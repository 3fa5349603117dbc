import assert from "node:assert/strict";
import { join } from "node:path";
import { CachedChatModel } from "../../chat/cached_chat_model.ts";
import { ScriptedChatModel } from "../../chat/testing/mod.ts";
import { importCharacterCard } from "../../persona/character_card.ts";
import { textChunk, tinyPng } from "../../persona/png_chunks.ts";
import { withServer } from "./testing/harness.ts";

const card = (name: string) => ({
  spec: "chara_card_v2",
  spec_version: "2.0",
  data: {
    name,
    description: "{{char}} is the navigator of the airship Kestrel.",
    personality: "calm",
    scenario: "{{user}} asks {{char}} for a course.",
    first_mes: "Charts are ready, {{user}}.",
    mes_example: "",
    creator_notes: "",
    system_prompt: "",
    post_history_instructions: "",
    alternate_greetings: [],
    tags: [],
    creator: "",
    character_version: "",
    extensions: {},
  },
});

function cardPng(value: unknown): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return tinyPng([textChunk("chara", btoa(String.fromCharCode(...bytes)))]);
}

const admin = { authorization: "Bearer admin-key" };

Deno.test("SillyTavern V2 cards (JSON and PNG) import into personas that are listed and served", async () => {
  await withServer({ adminKey: "admin-key", apiKey: "user-key" }, async (h) => {
    // Through the store, from files, as the CLI would do it.
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(join(dir, "juno.json"), JSON.stringify(card("Juno")));
      await Deno.writeFile(join(dir, "vega.png"), cardPng(card("Vega")));
      await h.store.put(await importCharacterCard(join(dir, "juno.json"), { model: "base" }));
      await h.store.put(
        await importCharacterCard(join(dir, "vega.png"), { model: "base", userName: "Sam" }),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    // Through the admin API: a PNG body.
    const res = await fetch(`${h.baseURL}/personas/import?name=orion`, {
      method: "POST",
      headers: { ...admin, "content-type": "image/png" },
      body: cardPng(card("Orion")),
    });
    assert.equal(res.status, 201);
    assert.equal((await res.json()).char_name, "Orion");

    const ids = [];
    for await (const m of h.client.models.list()) ids.push(m.id);
    assert.deepEqual(ids, ["Juno", "Vega", "echo", "orion"]);

    const r = await h.client.chat.completions.create({
      model: "Vega",
      messages: [{ role: "user", content: "Where to?" }],
    });
    assert.equal(r.model, "Vega");
    const sent = h.backend.calls.at(-1)!.messages;
    assert.equal(sent[0].role, "system");
    assert.match(sent[0].content, /Vega is the navigator of the airship Kestrel\./);
    assert.match(sent[0].content, /Scenario: Sam asks Vega for a course\./);
    assert.deepEqual(sent.slice(1), [
      { role: "assistant", content: "Charts are ready, Sam." },
      { role: "user", content: "Where to?" },
    ]);
    assert.equal(h.backend.calls.at(-1)!.model, "base");
  });
});

Deno.test("/v1/personas CRUD needs the admin key", async () => {
  await withServer({ adminKey: "admin-key", apiKey: "user-key" }, async (h) => {
    const url = `${h.baseURL}/personas`;
    const json = { ...admin, "content-type": "application/json" };
    const noKey = await fetch(url);
    assert.equal(noKey.status, 401);
    await noKey.body?.cancel();
    const userKey = await fetch(url, { headers: { authorization: "Bearer user-key" } });
    assert.equal(userKey.status, 403);
    await userKey.body?.cancel();

    const created = await fetch(url, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ name: "ada", model: "base", system_prompt: "You are {{char}}." }),
    });
    assert.equal(created.status, 201);
    assert.equal((await created.json()).user_name, "User");
    const dup = await fetch(url, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ name: "ada", model: "base" }),
    });
    assert.equal(dup.status, 409);
    await dup.body?.cancel();
    const bad = await fetch(`${url}/ada`, {
      method: "PUT",
      headers: json,
      body: JSON.stringify({
        model: "base",
        steering: [{ vector: "v", coefficient: 1, layer: 0 }],
      }),
    });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.param, "steering.0.layer");
    const put = await fetch(`${url}/ada`, {
      method: "PUT",
      headers: json,
      body: JSON.stringify({ model: "base", system_prompt: "You are {{char}}, renamed." }),
    });
    assert.equal(put.status, 200);
    await put.body?.cancel();

    await h.client.chat.completions.create({
      model: "ada",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(h.backend.calls.at(-1)!.messages[0].content, "You are ada, renamed.");

    const got = await fetch(`${url}/ada`, { headers: admin });
    assert.equal((await got.json()).system_prompt, "You are {{char}}, renamed.");
    const del = await fetch(`${url}/ada`, { method: "DELETE", headers: admin });
    assert.deepEqual(await del.json(), { id: "ada", object: "persona", deleted: true });
    const gone = await fetch(`${url}/ada`, { headers: admin });
    assert.equal(gone.status, 404);
    await gone.body?.cancel();
  });
});

Deno.test("/v1/personas is disabled without an admin key", async () => {
  await withServer({}, async (h) => {
    const res = await fetch(`${h.baseURL}/personas`);
    assert.equal(res.status, 403);
    assert.equal((await res.json()).error.code, "admin_disabled");
  });
});

Deno.test("a cached backend answers repeated server calls without the inner model", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "cache.sqlite");
  try {
    const inner = new ScriptedChatModel();
    const cached = new CachedChatModel(inner, { path });
    const fixed = [{ name: "echo", model: "base" }, { name: "memo", model: "cached" }];
    await withServer({ fixed, backends: { cached } }, async (h) => {
      const ask = () =>
        h.client.chat.completions.create({
          model: "memo",
          messages: [{ role: "user", content: "same" }],
          seed: 1,
        });
      const a = await ask();
      const b = await ask();
      assert.equal(inner.calls.length, 1);
      assert.equal(b.choices[0].message.content, a.choices[0].message.content);
      // A stream of the same request is served from the cache too.
      const stream = await h.client.chat.completions.create({
        model: "memo",
        messages: [{ role: "user", content: "same" }],
        seed: 1,
        stream: true,
      });
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      assert.equal(text, a.choices[0].message.content);
      assert.equal(inner.calls.length, 1);
    });
    cached.close();
    // After reopening the file, a new process would be answered from disk as well.
    const fresh = new ScriptedChatModel();
    const reopened = new CachedChatModel(fresh, { path });
    assert.ok(reopened.size >= 1);
    reopened.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
