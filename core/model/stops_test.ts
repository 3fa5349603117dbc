import assert from "node:assert/strict";
import { cutAtStop, StopDetector } from "./stops.ts";
import { Prng } from "../util/prng.ts";

Deno.test("StopDetector.push() holds back a possible stop prefix and cuts at the stop", () => {
  const d = new StopDetector(["\nUser:"]);
  assert.deepEqual(d.push("Hello\nUs"), { text: "Hello", stopped: false });
  assert.equal(d.pending, "\nUs");
  assert.deepEqual(d.push("er: hi"), { text: "", stopped: true, stop: "\nUser:" });
  assert.deepEqual(d.push("more"), { text: "", stopped: true });
  assert.equal(d.flush(), "");
});

Deno.test("StopDetector.push() releases a held tail once it stops matching", () => {
  const d = new StopDetector(["STOP"]);
  assert.deepEqual(d.push("abST"), { text: "ab", stopped: false });
  assert.deepEqual(d.push("x"), { text: "STx", stopped: false });
  assert.deepEqual(d.push("S"), { text: "", stopped: false });
  assert.equal(d.flush(), "S");
});

Deno.test("StopDetector.push() picks the earliest of several stops", () => {
  const d = new StopDetector(["cd", "b"]);
  assert.deepEqual(d.push("abcd"), { text: "a", stopped: true, stop: "b" });
  assert.deepEqual(new StopDetector(["ab", "abc"]).push("xabcx"), {
    text: "x",
    stopped: true,
    stop: "abc",
  });
});

Deno.test("StopDetector() with no stops passes text through; empty stops are rejected", () => {
  const d = new StopDetector(undefined);
  assert.deepEqual(d.push("abc"), { text: "abc", stopped: false });
  assert.throws(() => new StopDetector([""]), (e: Error) => e instanceof TypeError);
});

Deno.test("StopDetector streaming equals cutAtStop() on the joined text for any split", () => {
  const prng = new Prng(3);
  const alphabet = ["a", "b", "<", "/", "s", ">", " "];
  for (let trial = 0; trial < 300; trial++) {
    let text = "";
    const n = 1 + prng.int(30);
    for (let i = 0; i < n; i++) text += prng.choice(alphabet);
    const stops = ["</s>", "ab a"];
    const expected = cutAtStop(text, stops);
    // reference: first occurrence by plain search
    let first = text.length;
    for (const s of stops) {
      const i = text.indexOf(s);
      if (i >= 0) first = Math.min(first, i);
    }
    assert.equal(expected.text, text.slice(0, first));
    const d = new StopDetector(stops);
    let out = "";
    let pos = 0;
    let stopped = false;
    while (pos < text.length && !stopped) {
      const len = 1 + prng.int(4);
      const r = d.push(text.slice(pos, pos + len));
      pos += len;
      out += r.text;
      stopped = r.stopped;
      // never emitted past the stop, never emitted a partial stop that later matched
      assert.ok(expected.text.startsWith(out), `${JSON.stringify(out)} vs ${JSON.stringify(text)}`);
    }
    if (!stopped) out += d.flush();
    assert.equal(out, expected.text);
  }
});
