import assert from "node:assert/strict";
import { Prng } from "../../util/prng.ts";
import { acceptsText, runBytes } from "./automaton.ts";
import { JsonObjectAutomaton } from "./json_object.ts";

const a = new JsonObjectAutomaton();
const enc = new TextEncoder();

const isObject = (text: string): boolean => {
  try {
    const v = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
};

Deno.test("JsonObjectAutomaton accepts compact JSON objects and rejects everything else", () => {
  const good = [
    "{}",
    '{"a":1}',
    '{"a":[1,-2.5e+3,0.0,true,false,null,"x"],"b":{"c":{}}}',
    '{"é😀":"\\u00e9\\n\\"","":[[],[{}]]}',
    '{"n":-0,"m":1E9}',
  ];
  const bad = [
    "",
    "[]",
    "1",
    '"a"',
    "{",
    '{"a"}',
    '{"a":}',
    '{"a":1,}',
    "{,}",
    '{"a":01}',
    '{"a":1.}',
    '{"a":tru}',
    '{"a":"\\x"}',
    '{"a":"\n"}',
    "{} ",
    '{ "a":1}',
    '{"a":1}}',
    "{'a':1}",
  ];
  for (const t of good) assert.ok(acceptsText(a, t) && isObject(t), t);
  for (const t of bad) assert.ok(!acceptsText(a, t), t);
});

Deno.test("JsonObjectAutomaton agrees with JSON.parse on random short strings", () => {
  const alphabet = [
    "{",
    "}",
    "[",
    "]",
    '"',
    ":",
    ",",
    "0",
    "1",
    "-",
    ".",
    "e",
    "t",
    "r",
    "u",
    "n",
    "\\",
    "é",
  ];
  const prng = new Prng(5);
  for (let i = 0; i < 30000; i++) {
    const len = 1 + prng.int(9);
    let s = "{";
    for (let k = 1; k < len; k++) s += alphabet[prng.int(alphabet.length)];
    if (prng.next() < 0.5) s += "}";
    assert.equal(acceptsText(a, s), isObject(s), s);
  }
});

Deno.test("JsonObjectAutomaton.minBytes() is exact: a live prefix closes in that many bytes", () => {
  const prng = new Prng(9);
  // bytes that can ever be part of a shortest completion
  const closers = [...enc.encode('{"}]:0,')];
  const others = [...enc.encode("0truefalsn")];
  for (let i = 0; i < 3000; i++) {
    // a random live prefix, then the shortest completion found by following minBytes down
    let s = a.start;
    const bytes: number[] = [];
    const steps = prng.int(30);
    for (let k = 0; k < steps; k++) {
      const opts: number[] = [];
      for (let b = 0; b < 256; b++) if (a.step(s, b) !== null) opts.push(b);
      if (opts.length === 0) break; // a complete object: nothing may follow
      const b = opts[prng.int(opts.length)];
      s = a.step(s, b)!;
      bytes.push(b);
    }
    const need = a.minBytes(s);
    for (let k = 0; k < need; k++) {
      const next = [...closers, ...others, 0x80, 0x81, 0x90, 0xa0]
        .map((b) => [b, a.step(s, b)] as const)
        .find(([, n]) => n !== null && a.minBytes(n) === a.minBytes(s) - 1);
      assert.ok(next, `no byte brings ${JSON.stringify(s)} closer`);
      bytes.push(next[0]);
      s = next[1]!;
    }
    assert.ok(a.accepting(s));
    const text = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bytes));
    assert.ok(isObject(text), text);
    assert.equal(runBytes(a, a.start, enc.encode(text)) !== null, true);
  }
});
