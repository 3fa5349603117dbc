import assert from "node:assert/strict";
import { collectGarbage } from "./gc.ts";

Deno.test("collectGarbage() releases unreachable array buffers at once", () => {
  let big: Uint8Array | undefined = new Uint8Array(256 << 20).fill(1);
  const held = Deno.memoryUsage().external;
  assert.ok(held >= 256 << 20);
  big = undefined;
  assert.equal(big, undefined);
  assert.equal(collectGarbage(), true);
  assert.ok(Deno.memoryUsage().external < held - (200 << 20), "the buffer was not released");
  assert.equal(collectGarbage(), true, "a second call runs too");
});
