import assert from "node:assert/strict";
import { join } from "node:path";
import { errorCode } from "../errors.ts";
import { createTinyModel } from "../model/tiny.ts";
import { meanPool } from "./embedder.ts";
import { ModelHub } from "./model_hub.ts";

Deno.test("meanPool() averages each row's real tokens and skips left padding", () => {
  // B=2, S=3, H=2; row 0 has one padding slot, row 1 none
  const hidden = [100, 100, 1, 2, 3, 4, 1, 1, 2, 2, 3, 3];
  assert.deepEqual(meanPool(hidden, [2, 3, 2], [1, 0]), [[2, 3], [2, 2]]);
});

Deno.test("ModelHub.embedder() of a local model: batched, padded means equal each text's own mean of the final hidden state", async () => {
  const dir = await Deno.makeTempDir();
  const hub = new ModelHub({ cacheDir: join(dir, "g"), threads: 1 });
  try {
    const model = join(dir, "m");
    await createTinyModel(model, { preset: "tiny-llama", seed: 3 });
    const texts = ["a short one", "a somewhat longer sentence about the sea and ships", "x"];
    const batched = await hub.embedder(model, { batch: 3 });
    const unit = await hub.embedder(model, { batch: 2, normalize: true });
    assert.notEqual(batched.id, unit.id, "normalisation is part of the id");
    const got = await batched.embed(texts);
    const normed = await unit.embed(texts);
    // Oracle: one unpadded forward per text, mean over its rows of hidden_states[numLayers].
    const engine = await hub.engine(model);
    const L = engine.config.numLayers, H = engine.config.hiddenSize;
    for (const [i, text] of texts.entries()) {
      const ids = engine.tokenizer.encode(text);
      const f = await engine.forward([ids], { hiddenStates: true });
      const states = f.hiddenStates![L].data as Float32Array;
      const mean = Array.from({ length: H }, (_, h) => {
        let s = 0;
        for (let r = 0; r < ids.length; r++) s += states[r * H + h];
        return s / ids.length;
      });
      assert.equal(got[i].length, H);
      for (let h = 0; h < H; h++) {
        assert.ok(Math.abs(got[i][h] - mean[h]) < 1e-4, `text ${i} dim ${h}`);
      }
      const norm = Math.sqrt(mean.reduce((a, x) => a + x * x, 0));
      for (let h = 0; h < H; h++) assert.ok(Math.abs(normed[i][h] - mean[h] / norm) < 1e-4);
    }
    await assert.rejects(
      () => hub.embedder("persona:p.json"),
      (e) => errorCode(e) === "E_USAGE" && /persona/.test((e as Error).message),
    );
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ModelHub.embedder() of an endpoint: batches through the openai client, orders rows by index, names failures", async () => {
  const requests: { model: string; input: string[]; auth: string | null }[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname !== "/v1/embeddings") return new Response("not found", { status: 404 });
    const body = await req.json() as { model: string; input: string[] };
    requests.push({ ...body, auth: req.headers.get("authorization") });
    if (body.model === "missing") {
      return Response.json({ error: { message: "no such model" } }, { status: 404 });
    }
    // Rows out of order: the client must put them back by index.
    const data = body.input.map((t, index) => ({
      object: "embedding",
      index,
      embedding: [t.length, index],
    }))
      .reverse();
    return Response.json({
      object: "list",
      data,
      model: body.model,
      usage: { prompt_tokens: 0, total_tokens: 0 },
    });
  });
  const base = `http://127.0.0.1:${server.addr.port}/v1`;
  const hub = new ModelHub();
  try {
    const e = await hub.embedder(`${base}#emb`, { batch: 2 });
    assert.deepEqual(await e.embed(["a", "bb", "ccc"]), [[1, 0], [2, 1], [3, 0]]);
    assert.deepEqual(requests.map((r) => r.input), [["a", "bb"], ["ccc"]]);
    assert.ok(requests.every((r) => r.model === "emb"));
    const bad = await hub.embedder(`${base}#missing`);
    await assert.rejects(
      () => bad.embed(["a"]),
      (err) => errorCode(err) === "E_CONFIG" && /answered 404/.test((err as Error).message),
    );
    await assert.rejects(
      () => hub.embedder(base),
      (err) => errorCode(err) === "E_USAGE" && /#<name>/.test((err as Error).message),
    );
  } finally {
    await hub.close();
    await server.shutdown();
  }
});
