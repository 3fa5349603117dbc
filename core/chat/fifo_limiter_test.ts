import assert from "node:assert/strict";
import { errorCode } from "../errors.ts";
import { FifoLimiter } from "./fifo_limiter.ts";

Deno.test("FifoLimiter.acquire() grants slots in arrival order", async () => {
  const limiter = new FifoLimiter({ limit: 1 });
  const order: number[] = [];
  const first = await limiter.acquire();
  const waits = [1, 2, 3].map((i) =>
    limiter.acquire().then((release) => {
      order.push(i);
      release();
    })
  );
  assert.equal(limiter.queued, 3);
  first();
  await Promise.all(waits);
  assert.deepEqual(order, [1, 2, 3]);
  assert.equal(limiter.inFlight, 0);
});

Deno.test("FifoLimiter.acquire() rejects with E_LIMIT when the queue is full", async () => {
  const limiter = new FifoLimiter({ limit: 1, maxQueue: 1 });
  const release = await limiter.acquire();
  const waiting = limiter.acquire();
  await assert.rejects(limiter.acquire(), (e) => errorCode(e) === "E_LIMIT");
  release();
  (await waiting)();
  assert.equal(limiter.inFlight, 0);
});

Deno.test("FifoLimiter.acquire() leaves the queue when its signal aborts", async () => {
  const limiter = new FifoLimiter({ limit: 1 });
  const release = await limiter.acquire();
  const controller = new AbortController();
  const waiting = limiter.acquire(controller.signal);
  controller.abort(new Error("gone"));
  await assert.rejects(waiting, /gone/);
  assert.equal(limiter.queued, 0);
  release();
  release(); // idempotent
  assert.equal(limiter.inFlight, 0);
});

Deno.test("FifoLimiter() rejects a bad limit", () => {
  assert.throws(() => new FifoLimiter({ limit: 0 }), RangeError);
});
