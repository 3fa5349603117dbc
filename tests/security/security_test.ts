/**
 * The hostile-client suite: each test replays the probes of one hole of issue #15 against a live
 * `dramatis serve` process (tiny model, loopback) and asserts the safe answer, that `/health`
 * answers within 1 s during and after the probes, that no response carries a server path or file
 * bytes, and that the server keeps serving. The server's RSS is sampled every 100 ms throughout
 * and must stay under 1 GB.
 */

import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { join } from "node:path";
import { encodePng, textChunk } from "../../core/persona/png_chunks.ts";
import {
  assertNoLeak,
  chat,
  type LiveServer,
  makeFixture,
  runCli,
  startLiveServer,
} from "./live_server.ts";

const GB = 1 << 30;
let server: LiveServer | undefined;
let sampler: ReturnType<typeof setInterval> | undefined;

async function live(): Promise<LiveServer> {
  if (!server) {
    server = await startLiveServer();
    sampler = setInterval(() => {
      try {
        server?.rss();
      } catch { /* exited */ }
    }, 100);
  }
  return server;
}

/** Runs probes while polling /health; every poll must answer 200 within 1 s. */
async function duringHealth<T>(s: LiveServer, probes: () => Promise<T>): Promise<T> {
  let stop = false;
  const slow: number[] = [];
  const poller = (async () => {
    while (!stop) {
      slow.push(await s.health(1000));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    return await probes();
  } finally {
    stop = true;
    await poller;
    assert.ok(slow.length > 0);
    assert.ok(Math.max(...slow) < 1000, `/health took ${Math.max(...slow)} ms`);
  }
}

/** Sends a request and returns status and body text, checking the body leaks nothing. */
async function probe(
  s: LiveServer,
  path: string,
  init: RequestInit & { key?: string | null } = {},
): Promise<{ status: number; text: string; json: { error?: Record<string, unknown> } }> {
  const r = await s.call(path, init);
  const text = await r.text();
  assertNoLeak(text, s.fixture);
  let json = {};
  try {
    json = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: r.status, text, json };
}

const post = (body: string | Uint8Array, extra: Record<string, unknown> = {}) => ({
  method: "POST",
  body: body as BodyInit,
  ...extra,
});

async function stillServing(s: LiveServer): Promise<void> {
  const ok = await probe(s, "/v1/chat/completions", post(chat()));
  // The server's own log says why, where it answered otherwise.
  assert.equal(
    ok.status,
    200,
    `${ok.text}\nserver stderr, last lines:\n${s.stderr().slice(-4000)}`,
  );
  assert.ok((await s.health(1000)) < 1000);
  assert.ok(s.rss() < GB, `RSS ${s.rss()} bytes`);
}

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name:
    "hole 1: steering and projection vectors are ids in --vectors; paths, devices and FIFOs are refused",
  ...opts,
  async fn() {
    const s = await live();
    const fx = s.fixture;
    await Deno.symlink("/etc/passwd", join(fx.vectors, "escape.safetensors")).catch(() => {});
    const fifo = join(fx.vectors, "pipe.safetensors");
    await new Deno.Command("mkfifo", { args: [fifo] }).output().catch(() => {});
    const steer = (vector: string) =>
      post(chat({ steering: [{ vector, coefficient: 1, layer: 1 }] }));
    await duringHealth(s, async () => {
      for (const vector of ["/etc/shadow", "/dev/zero", "../personas/x", "escape", "pipe"]) {
        const t0 = performance.now();
        const r = await probe(s, "/v1/chat/completions", steer(vector));
        assert.equal(r.status, 400, `${vector}: ${r.text}`);
        assert.equal(r.json.error?.code, "invalid_resource");
        assert.equal(r.json.error?.param, "steering");
        assert.ok(performance.now() - t0 < 5000, `${vector} took too long`);
      }
      const proj = await probe(
        s,
        "/v1/chat/completions",
        post(chat({ projections: { vectors: ["/etc/passwd"], layer: 1 } })),
      );
      assert.equal(proj.status, 400, proj.text);
      assert.equal(proj.json.error?.param, "projections.vectors");
    });
    // A real vector by id still steers, and projections answer.
    const ok = await probe(s, "/v1/chat/completions", steer("calm"));
    assert.equal(ok.status, 200, ok.text);
    const projected = await probe(
      s,
      "/v1/chat/completions",
      post(chat({ projections: { vectors: ["calm"], layer: 1 } })),
    );
    assert.equal(projected.status, 200, projected.text);
    await stillServing(s);
  },
});

Deno.test({
  name:
    "hole 2: hostile constraints are refused under the compile budget without blocking the loop",
  ...opts,
  async fn() {
    const s = await live();
    const schema = (schema: unknown) =>
      post(chat({ response_format: { type: "json_schema", json_schema: { name: "x", schema } } }));
    let deep: unknown = { type: "string" };
    for (let i = 0; i < 20_000; i++) deep = { type: "array", items: deep };
    const probes: [string, RequestInit, RegExp][] = [
      [
        "nested repeats",
        post(chat({ constraint: { regex: "((a{1000}){1000}){1000}" } })),
        /maxExpandedStates/,
      ],
      [
        "DFA blow-up",
        post(chat({ constraint: { regex: "(a|b)*a(a|b){30}" } })),
        /timeMs|maxDfaStates/,
      ],
      ["minLength", schema({ type: "string", minLength: 1_000_000 }), /maxExpandedStates/],
      [
        "nested arrays",
        schema({
          type: "array",
          maxItems: 1000,
          items: { type: "array", maxItems: 1000, items: { type: "string", maxLength: 1000 } },
        }),
        /maxExpandedStates/,
      ],
      ["50k enum", schema({ enum: Array.from({ length: 50_000 }, (_, i) => i) }), /maxChoices/],
      [
        "50k choices",
        post(chat({ constraint: { choices: Array.from({ length: 50_000 }, (_, i) => `c${i}`) } })),
        /maxChoices/,
      ],
      ["20k-deep schema", schema(deep), /nests \d+ levels deep/],
    ];
    await duringHealth(s, async () => {
      for (const [what, init, limit] of probes) {
        const r = await probe(s, "/v1/chat/completions", init);
        assert.equal(r.status, 400, `${what}: ${r.text}`);
        assert.match(String(r.json.error?.message), limit, what);
      }
    });
    // A reasonable schema still constrains the output.
    const ok = await probe(
      s,
      "/v1/chat/completions",
      post(chat({
        max_tokens: 24,
        response_format: {
          type: "json_schema",
          json_schema: {
            name: "r",
            schema: { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] },
          },
        },
      })),
    );
    assert.equal(ok.status, 200, ok.text);
    await stillServing(s);
  },
});

Deno.test({
  name: "hole 3: prompts past the model's positions get context_length_exceeded before generation",
  ...opts,
  async fn() {
    const s = await live();
    const many = (n: number) =>
      Array.from(
        { length: n },
        (_, i) => ({ role: "user", content: `message ${i} about the sea` }),
      );
    await duringHealth(s, async () => {
      for (
        const body of [
          chat({ messages: many(700) }),
          chat({ messages: many(5000) }),
          chat({ max_tokens: 4096 }),
        ]
      ) {
        const r = await probe(s, "/v1/chat/completions", post(body));
        assert.equal(r.status, 400, r.text);
        assert.equal(r.json.error?.code, "context_length_exceeded");
        assert.equal(r.json.error?.param, "messages");
      }
    });
    await stillServing(s);
  },
});

/** Opens a raw connection and sends bytes; returns the connection. */
async function rawSend(s: LiveServer, text: string): Promise<Deno.TcpConn> {
  const { hostname, port } = new URL(s.url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  if (text) await conn.write(new TextEncoder().encode(text));
  return conn;
}

/** Reads until the server closes (or 5 s pass); returns what came back. */
async function readToEnd(conn: Deno.Conn, limitMs = 5000): Promise<string> {
  const buf = new Uint8Array(4096);
  let out = "";
  const timer = setTimeout(() => conn.close(), limitMs);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      out += new TextDecoder().decode(buf.subarray(0, n));
    }
  } catch { /* closed by the timer */ }
  clearTimeout(timer);
  try {
    conn.close();
  } catch { /* closed */ }
  return out;
}

Deno.test({
  name: "hole 4: slow heads, missing bodies and idle connections are cut; a short body is a 400",
  ...opts,
  async fn() {
    const s = await live();
    const auth = `authorization: Bearer ${s.fixture.apiKey}\r\n`;
    const head = (length: number) =>
      `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n${auth}content-type: application/json\r\n` +
      `content-length: ${length}\r\n\r\n`;
    await duringHealth(s, async () => {
      const t0 = performance.now();
      const [slowHead, noBody, idle, short] = await Promise.all([
        rawSend(s, "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n").then((c) => readToEnd(c)),
        rawSend(s, head(100)).then((c) => readToEnd(c)),
        rawSend(s, "").then((c) => readToEnd(c)),
        rawSend(s, head(100) + '{"model":"tiny"').then(async (c) => {
          await c.closeWrite();
          return readToEnd(c);
        }),
      ]);
      assert.ok(performance.now() - t0 < 4000, "every connection was cut within the timeouts");
      assert.match(slowHead, /^HTTP\/1\.1 408/);
      assert.match(noBody, /^HTTP\/1\.1 408/);
      assert.ok(idle === "" || /^HTTP\/1\.1 408/.test(idle), idle);
      assert.match(short, /^HTTP\/1\.1 400/);
      assert.match(short, /incomplete_body|cut short/);
    });
    await stillServing(s);
  },
});

Deno.test({
  name:
    "hole 4: 32 streaming clients complete beside 2,000 half-open connections; descriptors return",
  ...opts,
  async fn() {
    // A server of its own with a 10 s header timeout, so all 2,000 connections are open at once
    // even on a loaded machine.
    const s = await startLiveServer(["--header-timeout", "10", "--idle-timeout", "10"]);
    const sample = setInterval(() => {
      try {
        s.rss();
      } catch { /* exited */ }
    }, 100);
    const baseline = s.fds();
    const half: Deno.TcpConn[] = [];
    const { hostname, port } = new URL(s.url);
    const started = performance.now();
    for (let batch = 0; batch < 20; batch++) {
      half.push(
        ...await Promise.all(Array.from({ length: 100 }, async () => {
          const c = await Deno.connect({ hostname, port: Number(port) });
          await c.write(new TextEncoder().encode("GET /health HTTP/1.1\r\nhost: x\r\n"));
          return c;
        })),
      );
    }
    assert.ok(performance.now() - started < 10_000, "opened within the header timeout");
    const held = s.fds();
    assert.ok(held > baseline + 1000, `the half-open connections are held (${held} descriptors)`);
    const stream = async () => {
      const r = await s.call("/v1/chat/completions", {
        method: "POST",
        body: chat({ stream: true, max_tokens: 8 }),
      });
      const text = await r.text();
      assertNoLeak(text, s.fixture);
      return r.status === 200 && text.includes("data: [DONE]")
        ? ""
        : `${r.status}: ${text.slice(0, 200)}`;
    };
    const results = await duringHealth(s, () => Promise.all(Array.from({ length: 32 }, stream)));
    const failed = results.filter((r) => r !== "");
    assert.deepEqual(failed, [], "every streaming client completed");
    // The half-open connections are cut at the header timeout.
    await new Promise((r) => setTimeout(r, Math.max(0, 10_500 - (performance.now() - started))));
    for (const c of half) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await new Promise((r) => setTimeout(r, 500));
    const after = s.fds();
    assert.ok(after <= baseline + 8, `descriptors ${after} after, ${baseline} before`);
    console.log(
      `load: 32/32 streams done beside 2000 half-open; fds ${baseline} -> ${held} -> ${after}; ` +
        `peak RSS ${(s.peakRss / 2 ** 20).toFixed(0)} MiB`,
    );
    await stillServing(s);
    clearInterval(sample);
    assert.ok(s.peakRss < GB);
    assert.equal(await s.stop("SIGTERM"), 0);
  },
});

function admin(s: LiveServer) {
  return { key: s.fixture.adminKey };
}

Deno.test({
  name: "hole 5: card import refuses decompression bombs, deep JSON and malformed PNGs with 400",
  ...opts,
  async fn() {
    const s = await live();
    const iend = { type: "IEND", data: new Uint8Array() };
    const itxt = (payload: Uint8Array) => {
      const head = new TextEncoder().encode("chara\0\x01\x00\0\0");
      const data = new Uint8Array(head.length + payload.length);
      data.set(head);
      data.set(payload, head.length);
      return { type: "iTXt", data };
    };
    const bomb = encodePng([itxt(deflateSync(new Uint8Array(200 << 20)) as Uint8Array), iend]);
    assert.ok(bomb.length < 1 << 20, `bomb is ${bomb.length} bytes`);
    let deepCard = '"x"';
    for (let i = 0; i < 5000; i++) deepCard = `{"a":${deepCard}}`;
    const deep = JSON.stringify({ name: "Deep", description: "d" }).replace(
      /}$/,
      `,"extensions":${deepCard}}`,
    );
    const badCrc = encodePng([textChunk("chara", btoa('{"name":"x"}')), iend]);
    badCrc[badCrc.length - 20] ^= 0xff;
    await duringHealth(s, async () => {
      for (
        const [what, body] of [["bomb", bomb], ["deep JSON", deep], ["bad CRC", badCrc]] as const
      ) {
        const r = await probe(s, "/v1/personas/import?model=tiny", { ...post(body), ...admin(s) });
        assert.equal(r.status, 400, `${what}: ${r.text}`);
      }
    });
    assert.ok(s.rss() < GB);
    // A real card still imports, and its stored file is small.
    const card = encodePng([
      textChunk("chara", btoa(JSON.stringify({ name: "Juno", description: "A sailor." }))),
      iend,
    ]);
    const ok = await probe(s, "/v1/personas/import?model=tiny", { ...post(card), ...admin(s) });
    assert.equal(ok.status, 201, ok.text);
    assert.ok((await Deno.stat(join(s.fixture.personas, "Juno.json"))).size < 10_000);
    await stillServing(s);
  },
});

Deno.test({
  name: "hole 6: persona models, adapters and vectors are confined; hub-looking ids never download",
  ...opts,
  async fn() {
    const s = await live();
    const create = (persona: Record<string, unknown>) =>
      probe(s, "/v1/personas", { ...post(JSON.stringify(persona)), ...admin(s) });
    await duringHealth(s, async () => {
      for (
        const [what, persona, param] of [
          ["model /etc", { name: "p1", model: "/etc" }, "model"],
          ["hub id", { name: "p2", model: "meta-llama/Llama-2-7b-hf" }, "model"],
          [
            "adapter path",
            {
              name: "p3",
              model: "tiny",
              adapters: [{ plugin: "lora", path: "../../../etc/passwd" }],
            },
            "adapters",
          ],
          [
            "vector path",
            {
              name: "p4",
              model: "tiny",
              steering: [{ vector: "/etc/shadow", coefficient: 1, layer: 1 }],
            },
            "steering",
          ],
        ] as const
      ) {
        const r = await create(persona);
        assert.equal(r.status, 400, `${what}: ${r.text}`);
        assert.equal(r.json.error?.param, param, what);
      }
      // A persona file written on disk directly is checked the same way when used.
      await Deno.writeTextFile(
        join(s.fixture.personas, "sneaky.json"),
        JSON.stringify({ name: "sneaky", model: "/etc" }),
      );
      const used = await probe(s, "/v1/chat/completions", post(chat({ model: "sneaky" })));
      assert.equal(used.status, 400, used.text);
      await Deno.remove(join(s.fixture.personas, "sneaky.json"));
    });
    const good = await create({
      name: "steady",
      model: "tiny",
      steering: [{ vector: "calm", coefficient: 1, layer: 1 }],
    });
    assert.equal(good.status, 201, good.text);
    const r = await probe(s, "/v1/chat/completions", post(chat({ model: "steady" })));
    assert.equal(r.status, 200, r.text);
    await stillServing(s);
  },
});

Deno.test({
  name: "hole 7: long names, corrupt persona files, unknown identities and keys leak nothing",
  ...opts,
  async fn() {
    const s = await live();
    await duringHealth(s, async () => {
      const long = await probe(s, "/v1/chat/completions", post(chat({ model: "a".repeat(300) })));
      assert.equal(long.status, 404, long.text);
      await Deno.writeTextFile(join(s.fixture.personas, "broken.json"), "{ not json");
      const models = await probe(s, "/v1/models");
      assert.equal(models.status, 200, models.text);
      assert.ok(models.text.includes('"tiny"'));
      assert.ok(!models.text.includes("broken"));
      const broken = await probe(s, "/v1/chat/completions", post(chat({ model: "broken" })));
      assert.equal(broken.status, 404, broken.text);
      await Deno.remove(join(s.fixture.personas, "broken.json"));
      const ids = await probe(s, "/v1/chat/completions", post(chat({ identities: ["Wizard"] })));
      assert.equal(ids.status, 400, ids.text);
      assert.match(
        String(ids.json.error?.message),
        /identities.*no adapter of this model reads it/,
      );
      const wrongKey = await probe(s, "/v1/models", { key: "nope" });
      assert.equal(wrongKey.status, 401);
    });
    // Keys come from files: they are not on the command line, and never printed.
    const cmdline = await Deno.readTextFile(`/proc/${s.pid}/cmdline`);
    for (const key of [s.fixture.apiKey, s.fixture.adminKey]) {
      assert.ok(!cmdline.includes(key));
      assert.ok(!s.stderr().includes(key));
    }
    const empty = await runCli(["serve", "--model", s.fixture.model, "--api-key", ""]);
    assert.equal(empty.code, 2, empty.stderr);
    assert.match(empty.stderr, /error\[E_USAGE\].*--api-key is empty.*--no-auth/);
    const flagged = await runCli([
      "serve",
      "--model",
      s.fixture.model,
      "--api-key",
      "s3cr3t-value",
      "--port",
      "1",
      "--host",
      "203.0.113.1",
    ]);
    assert.ok(!flagged.stderr.includes("s3cr3t-value"), flagged.stderr);
    await stillServing(s);
  },
});

Deno.test({
  name: "hole 8: CLI errors are coded and options are checked before any work",
  ...opts,
  async fn() {
    const fx = await makeFixture();
    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const r = await runCli([
        "serve",
        "--model",
        fx.model,
        "--port",
        String((busy.addr as Deno.NetAddr).port),
      ]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /error\[E_ADDR_IN_USE\]/);
    } finally {
      busy.close();
    }
    const file = join(fx.dir, "api.key");
    const personasFile = await runCli(["serve", "--model", fx.model, "--personas", file]);
    assert.equal(personasFile.code, 2);
    assert.match(personasFile.stderr, /error\[E_USAGE\].*is a file/);
    const onFile = await runCli(["model", "new", file, "--preset", "tiny-llama"]);
    assert.equal(onFile.code, 2);
    assert.match(onFile.stderr, /error\[E_PATH\]/);
    const proc = await runCli(["model", "new", "/proc/dramatis-x", "--preset", "tiny-llama"]);
    assert.equal(proc.code, 2, proc.stderr);
    assert.match(proc.stderr, /error\[E_PATH\]/);
    const gen = await runCli([
      "generate",
      "--model",
      fx.model,
      "--prompt",
      "hi",
      "--max-tokens",
      "-5",
    ]);
    assert.equal(gen.code, 2);
    assert.match(gen.stderr, /error\[E_USAGE\].*--max-tokens is -5/);
    assert.doesNotMatch(gen.stderr, /export|graph/i);
    const exp = join(fx.dir, "missing.json");
    const out = join(fx.dir, "missing-run");
    await Deno.writeTextFile(
      exp,
      JSON.stringify({
        name: "missing",
        models: { base: { kind: "local", path: "./no-such-model" } },
        datasets: { d: file },
        steps: [{ id: "t", kind: "train", plugin: "lora", with: { model: "base", data: "d" } }],
      }),
    );
    const run = await runCli(["run", exp, "--out", out]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /models\.base\.path.*no model folder/);
    assert.equal(await Deno.stat(out).catch(() => null), null, "no run folder was made");
  },
});

Deno.test({
  name: "SIGTERM drains like SIGINT; RSS stayed under 1 GB through the suite",
  ...opts,
  async fn() {
    const s = await live();
    const streaming = s.call("/v1/chat/completions", {
      method: "POST",
      body: chat({ stream: true, max_tokens: 64 }),
    }).then((r) => r.text()).catch((e) => String(e));
    await new Promise((r) => setTimeout(r, 300));
    const code = await s.stop("SIGTERM");
    clearInterval(sampler);
    assert.equal(code, 0, s.stderr());
    assert.match(s.stderr(), /serve: shutting down/);
    await streaming;
    console.log(`security suite: peak RSS ${(s.peakRss / 2 ** 20).toFixed(0)} MiB`);
    assert.ok(s.peakRss > 0 && s.peakRss < GB, `peak RSS ${s.peakRss}`);
    await Deno.remove(s.fixture.dir, { recursive: true }).catch(() => {});
  },
});
