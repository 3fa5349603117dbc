import assert from "node:assert/strict";
import { join } from "node:path";
import { downloadModel, snapshotDir } from "./hub.ts";
import { resolveModel } from "./model_dir.ts";
import { createTinyModel } from "./tiny.ts";
import { readDecoderConfig } from "./config.ts";
import { errorCode } from "../errors.ts";

interface Logged {
  path: string;
  auth: string | null;
  range: string | null;
}

/** A fake hub on 127.0.0.1 serving repos from local folders, with Range support and a gated repo. */
function fakeHub(repos: Record<string, string>, gated: Record<string, string> = {}) {
  const log: Logged[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    log.push({
      path: url.pathname,
      auth: req.headers.get("authorization"),
      range: req.headers.get("range"),
    });
    const m = url.pathname.match(/^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/);
    if (!m) return new Response("bad", { status: 400 });
    const [, id, , file] = m;
    if (gated[id] !== undefined && req.headers.get("authorization") !== `Bearer ${gated[id]}`) {
      return new Response("unauthorized", { status: 401 });
    }
    const root = repos[id];
    if (!root) return new Response("no repo", { status: 401 }); // the hub hides unknown repos
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = await Deno.readFile(join(root, file));
    } catch {
      return new Response("missing", { status: 404 });
    }
    const range = req.headers.get("range")?.match(/^bytes=(\d+)-$/);
    if (range) {
      const start = Number(range[1]);
      if (start >= bytes.length) return new Response(null, { status: 416 });
      return new Response(bytes.slice(start), {
        status: 206,
        headers: { "content-range": `bytes ${start}-${bytes.length - 1}/${bytes.length}` },
      });
    }
    return new Response(bytes);
  });
  const endpoint = `http://127.0.0.1:${server.addr.port}`;
  return { log, endpoint, close: () => server.shutdown() };
}

async function setup() {
  const root = await Deno.makeTempDir();
  const src = join(root, "src");
  await createTinyModel(src, {
    preset: "tiny-qwen2",
    seed: 1,
    numLayers: 1,
    hiddenSize: 32,
    numHeads: 2,
    numKvHeads: 1,
  });
  return { root, src, cache: join(root, "cache") };
}

Deno.test("downloadModel() fetches a model with the token header and reuses the snapshot offline", async () => {
  const { root, src, cache } = await setup();
  const hub = fakeHub({ "acme/tiny": src }, { "acme/tiny": "sekret" });
  try {
    const events: string[] = [];
    const dir = await downloadModel("acme/tiny", {
      endpoint: hub.endpoint,
      token: "sekret",
      cacheDir: cache,
      silent: true,
      onProgress: (p) => p.done && events.push(p.file),
    });
    assert.equal(dir, snapshotDir(cache, "acme/tiny", "main"));
    assert.ok(hub.log.every((l) => l.auth === "Bearer sekret"));
    assert.ok(hub.log.some((l) => l.path === "/acme/tiny/resolve/main/config.json"));
    for (
      const f of ["config.json", "model.safetensors", "tokenizer.json", "generation_config.json"]
    ) {
      assert.deepEqual(await Deno.readFile(join(dir, f)), await Deno.readFile(join(src, f)), f);
      assert.ok(events.includes(f));
    }
    assert.equal((await readDecoderConfig(dir)).modelType, "qwen2");
    const before = hub.log.length;
    assert.equal(
      await downloadModel("acme/tiny", { endpoint: hub.endpoint, cacheDir: cache, silent: true }),
      dir,
    );
    assert.equal(
      hub.log.length,
      before,
      "a complete snapshot needs no request, not even with no token",
    );
  } finally {
    await hub.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("downloadModel() resumes a partial file with Range and skips complete files", async () => {
  const { root, src, cache } = await setup();
  const hub = fakeHub({ "acme/tiny": src });
  try {
    const opts = { endpoint: hub.endpoint, cacheDir: cache, silent: true, token: "" };
    const dir = await downloadModel("acme/tiny", opts);
    const weights = await Deno.readFile(join(src, "model.safetensors"));
    await Deno.remove(join(dir, ".dramatis-snapshot.json"));
    await Deno.remove(join(dir, "model.safetensors"));
    await Deno.writeFile(join(dir, "model.safetensors.part"), weights.subarray(0, 1000));
    hub.log.length = 0;
    await downloadModel("acme/tiny", opts);
    assert.deepEqual(await Deno.readFile(join(dir, "model.safetensors")), weights);
    const w = hub.log.filter((l) => l.path.endsWith("/model.safetensors"));
    assert.deepEqual(w.map((l) => l.range), ["bytes=1000-"]);
    const fetched = hub.log.map((l) => l.path.split("/").pop());
    for (
      const f of [
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "generation_config.json",
      ]
    ) {
      assert.ok(!fetched.includes(f), `${f} was complete and must be skipped`);
    }
    assert.ok(hub.log.every((l) => l.auth === null), "no token, no header");
    await assert.rejects(() => Deno.stat(join(dir, "model.safetensors.part")));
  } finally {
    await hub.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("downloadModel() from two callers into one cache fetches each file once and both get it whole", async () => {
  const { root, src, cache } = await setup();
  const hub = fakeHub({ "acme/tiny": src });
  try {
    const opts = { endpoint: hub.endpoint, cacheDir: cache, silent: true, token: "" };
    // Two downloads at once, as two shards sharing a cache start: without turn-taking both
    // would write the same .part file.
    const [a, b] = await Promise.all([
      downloadModel("acme/tiny", opts),
      downloadModel("acme/tiny", opts),
    ]);
    assert.equal(a, b);
    const weights = await Deno.readFile(join(src, "model.safetensors"));
    assert.deepEqual(await Deno.readFile(join(a, "model.safetensors")), weights);
    const gets = hub.log.filter((l) => l.path.endsWith("/model.safetensors"));
    assert.equal(gets.length, 1, `model.safetensors fetched ${gets.length} times`);
    const left = [...Deno.readDirSync(a)].map((e) => e.name)
      .filter((n) => n.endsWith(".part") || n.endsWith(".lock"));
    assert.deepEqual(left, []);
  } finally {
    await hub.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("downloadModel() follows a sharded index to its shards", async () => {
  const { root, src, cache } = await setup();
  const sharded = join(root, "sharded");
  await Deno.mkdir(sharded);
  for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json"]) {
    await Deno.copyFile(join(src, f), join(sharded, f));
  }
  await Deno.writeTextFile(join(sharded, "s1.safetensors"), "one");
  await Deno.writeTextFile(join(sharded, "s2.safetensors"), "two");
  await Deno.writeTextFile(
    join(sharded, "model.safetensors.index.json"),
    JSON.stringify({
      weight_map: { a: "s1.safetensors", b: "s2.safetensors", c: "s1.safetensors" },
    }),
  );
  const hub = fakeHub({ "acme/big": sharded });
  try {
    const dir = await downloadModel("acme/big", {
      endpoint: hub.endpoint,
      cacheDir: cache,
      silent: true,
      token: "",
    });
    assert.equal(await Deno.readTextFile(join(dir, "s2.safetensors")), "two");
    assert.ok(!hub.log.some((l) => l.path.endsWith("/model.safetensors")));
    const shardGets = hub.log.filter((l) => /s\d\.safetensors$/.test(l.path)).length;
    assert.equal(shardGets, 2, "each shard fetched once");
  } finally {
    await hub.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("downloadModel() explains 401 and 404 with the id, the file and the fix", async () => {
  const { root, src, cache } = await setup();
  const noWeights = join(root, "noweights");
  await Deno.mkdir(noWeights);
  for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json"]) {
    await Deno.copyFile(join(src, f), join(noWeights, f));
  }
  const hub = fakeHub({ "acme/gated": src, "acme/empty": noWeights }, { "acme/gated": "t" });
  try {
    const opts = { endpoint: hub.endpoint, cacheDir: cache, silent: true, token: "" };
    await assert.rejects(() => downloadModel("acme/gated", opts), (e: Error) => {
      assert.equal(errorCode(e), "E_MODEL_DIR");
      for (const p of ["acme/gated", "config.json", "HTTP 401", "HF_TOKEN", "spelling"]) {
        assert.ok(e.message.includes(p), `${e.message} lacks ${p}`);
      }
      return true;
    });
    await assert.rejects(() => downloadModel("acme/empty", opts), (e: Error) => {
      for (const p of ["acme/empty", "model.safetensors", "404", "spelling"]) {
        assert.ok(e.message.includes(p), `${e.message} lacks ${p}`);
      }
      return true;
    });
    await assert.rejects(() => downloadModel("not-an-id", opts), /owner\/name/);
  } finally {
    await hub.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("resolveModel() uses local directories offline and names bad ones", async () => {
  const { root, src, cache } = await setup();
  try {
    const local = await resolveModel(src, { endpoint: "http://127.0.0.1:9", cacheDir: cache });
    assert.deepEqual(local, { dir: src, source: "local" });
    const empty = join(root, "empty");
    await Deno.mkdir(empty);
    await assert.rejects(() => resolveModel(empty), (e: Error) => {
      assert.equal(errorCode(e), "E_MODEL_DIR");
      assert.ok(e.message.includes(empty) && e.message.includes("config.json"));
      return true;
    });
    await assert.rejects(
      () => resolveModel("./no/such/dir"),
      /neither an existing directory nor a hub id/,
    );
    await assert.rejects(() => resolveModel(join(src, "config.json")), /is a file/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("resolveModel() downloads a hub id and reports it", async () => {
  const { root, src, cache } = await setup();
  const hub = fakeHub({ "acme/tiny": src });
  try {
    const r = await resolveModel("acme/tiny", {
      endpoint: hub.endpoint,
      cacheDir: cache,
      silent: true,
      token: "",
      revision: "v1",
    });
    assert.equal(r.source, "hub");
    assert.equal(r.id, "acme/tiny");
    assert.equal(r.revision, "v1");
    assert.ok(hub.log.some((l) => l.path === "/acme/tiny/resolve/v1/tokenizer.json"));
    assert.equal((await readDecoderConfig(r.dir)).modelType, "qwen2");
  } finally {
    await hub.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("downloadModel() ends each progress line with the bytes received as the total", async () => {
  const { root, src, cache } = await setup();
  const hub = fakeHub({ "acme/tiny": src });
  try {
    const lines: string[] = [];
    const dir = await downloadModel("acme/tiny", {
      endpoint: hub.endpoint,
      cacheDir: cache,
      token: "",
      progressSink: (t) => lines.push(t.trim()),
    });
    for (const f of ["config.json", "model.safetensors", "tokenizer.json"]) {
      const size = (await Deno.stat(join(dir, f))).size;
      const [unit, div] = size < 1e6 ? ["kB", 1e3] : ["MB", 1e6];
      const n = Math.round((size / div) * 10) / 10;
      const last = lines.filter((l) => l.startsWith(`acme/tiny/${f} `)).pop();
      assert.ok(last, `no progress line for ${f}`);
      assert.ok(last.includes(`[${"#".repeat(24)}] ${n}/${n} ${unit}`), last);
    }
  } finally {
    await hub.close();
    await Deno.remove(root, { recursive: true });
  }
});
