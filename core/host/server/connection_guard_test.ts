import assert from "node:assert/strict";
import { withServer } from "./testing/harness.ts";

const encoder = new TextEncoder();

async function halfOpen(url: string, n: number): Promise<Deno.TcpConn[]> {
  const { hostname, port } = new URL(url);
  const conns: Deno.TcpConn[] = [];
  for (let i = 0; i < n; i++) {
    const c = await Deno.connect({ hostname, port: Number(port) });
    await c.write(encoder.encode("GET /health HTTP/1.1\r\nhost: x\r\n"));
    conns.push(c);
  }
  return conns;
}

function closeAll(conns: Deno.Conn[]) {
  for (const c of conns) {
    try {
      c.close();
    } catch { /* closed by the server */ }
  }
}

Deno.test({
  name: "the connection cap: the oldest half-sent head makes room for a new client",
  sanitizeResources: false,
  async fn() {
    await withServer({ connections: { maxConnections: 8, headerTimeoutMs: 10_000 } }, async (h) => {
      const conns = await halfOpen(h.server.url, 8);
      try {
        const r = await fetch(`${h.server.url}/health`);
        assert.equal(r.status, 200);
        await r.body?.cancel();
        const metrics = await (await fetch(`${h.server.url}/metrics`)).text();
        assert.match(metrics, /dramatis_connections_cut_total\{reason="cap"\} [1-9]/);
      } finally {
        closeAll(conns);
      }
    });
  },
});

Deno.test({
  name:
    "a chunked request body passes the guard whole; a second request on the connection is refused",
  sanitizeResources: false,
  async fn() {
    await withServer({}, async (h) => {
      const json = JSON.stringify({
        model: "echo",
        messages: [{ role: "user", content: "chunks" }],
      });
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < json.length; i += 7) c.enqueue(encoder.encode(json.slice(i, i + 7)));
          c.close();
        },
      });
      const r = await fetch(`${h.server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      assert.equal(r.status, 200);
      assert.equal((await r.json()).choices[0].message.content, "echo: chunks");
      assert.equal(r.headers.get("connection"), "close");
    });
  },
});

Deno.test({
  name: "the guard refuses a head with both content-length and chunked encoding",
  sanitizeResources: false,
  async fn() {
    await withServer({}, async (h) => {
      const { hostname, port } = new URL(h.server.url);
      const c = await Deno.connect({ hostname, port: Number(port) });
      await c.write(encoder.encode(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n" +
          "transfer-encoding: chunked\r\n\r\n0\r\n\r\n",
      ));
      const buf = new Uint8Array(1024);
      const n = await c.read(buf);
      c.close();
      assert.match(new TextDecoder().decode(buf.subarray(0, n ?? 0)), /^HTTP\/1\.1 400/);
    });
  },
});
