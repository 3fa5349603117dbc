import assert from "node:assert/strict";
import { join } from "node:path";
import { errorCode } from "../errors.ts";
import { parsePersona, PersonaStore } from "./persona_store.ts";

async function withStore(fn: (store: PersonaStore, dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(new PersonaStore(join(dir, "personas")), join(dir, "personas"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("PersonaStore put/get/list/delete round-trips personas with defaults", async () => {
  await withStore(async (store, dir) => {
    assert.deepEqual(await store.list(), []);
    const ada = await store.put({ name: "ada", model: "./tiny", identities: ["EXT_high"] });
    await store.put({ name: "bo", model: "./tiny" });
    assert.equal(ada.user_name, "User");
    assert.deepEqual(await store.get("ada"), ada);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(join(dir, "ada.json"))), ada);
    assert.deepEqual((await store.list()).map((p) => p.name), ["ada", "bo"]);
    assert.equal(await store.delete("ada"), true);
    assert.equal(await store.delete("ada"), false);
    assert.equal(await store.get("ada"), undefined);
    assert.deepEqual(await store.names(), ["bo"]);
  });
});

Deno.test("PersonaStore errors name the file and the field", async () => {
  await withStore(async (store, dir) => {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(
      join(dir, "bad.json"),
      JSON.stringify({
        name: "bad",
        model: "m",
        steering: [{ vector: "v", coefficient: 1, layer: 0 }],
      }),
    );
    await assert.rejects(store.get("bad"), (e) => {
      const m = (e as Error).message;
      return errorCode(e) === "E_CONFIG" && m.includes("bad.json") &&
        m.includes("steering.0.layer") &&
        (e as { param?: string }).param === "steering.0.layer";
    });
    await assert.rejects(store.list(), /bad\.json/);
    await Deno.writeTextFile(join(dir, "bad.json"), "{ not json");
    await assert.rejects(
      store.get("bad"),
      (e) => e instanceof SyntaxError && /bad\.json/.test(e.message),
    );
    await Deno.writeTextFile(join(dir, "bad.json"), JSON.stringify({ name: "other", model: "m" }));
    await assert.rejects(store.get("bad"), /named for "bad"/);
  });
});

Deno.test("PersonaStore rejects names that are not safe file names", async () => {
  await withStore(async (store) => {
    await assert.rejects(() => store.get("../etc/passwd"), RangeError);
    assert.throws(() => parsePersona({ name: ".hidden", model: "m" }, "body"), /field name/);
  });
});
