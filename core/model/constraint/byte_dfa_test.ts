import assert from "node:assert/strict";
import { acceptsText, runBytes } from "./automaton.ts";
import { compileChoices, compileRegex } from "./byte_dfa.ts";
import { utf8Sequences } from "./utf8_ranges.ts";

/** Every string over `alphabet` of length 0..maxLen. */
function* strings(alphabet: string[], maxLen: number): Generator<string> {
  let layer = [""];
  for (let n = 0; n <= maxLen; n++) {
    yield* layer;
    layer = layer.flatMap((s) => alphabet.map((c) => s + c));
  }
}

const CASES: [string, string[], number][] = [
  ["ab*c", ["a", "b", "c"], 5],
  ["(a|bc)+", ["a", "b", "c"], 6],
  ["a{2,3}b?", ["a", "b"], 6],
  ["a{2}|b{1,}", ["a", "b"], 5],
  ["[a-c]x?[^a]", ["a", "b", "x", "d"], 4],
  ["\\d+(\\.\\d{1,2})?", ["1", "0", ".", "x"], 6],
  ["(?:ab|a)(?<n>b|c)*", ["a", "b", "c"], 5],
  ["^\\w\\s\\W$", ["a", "_", " ", "-", "\t"], 4],
  ["x.y", ["x", "y", "\n", "é", "€"], 3],
  ["[é-ü]+|\\u20ac|\\x41", ["é", "ü", "ö", "€", "A", "a"], 3],
  ["a*?b+?", ["a", "b"], 5],
  ["\\S\\D", ["1", " ", "a"], 3],
  ["[\\d\\-+]{0,2}", ["1", "-", "+", "a"], 3],
  ["(|a)b", ["a", "b"], 3],
  ["😀+|a", ["😀", "a", "😁"], 3],
];

Deno.test("compileRegex() agrees with JavaScript RegExp on every short string", () => {
  for (const [src, alphabet, maxLen] of CASES) {
    const dfa = compileRegex(src);
    const js = new RegExp(`^(?:${src.replace(/^\^|\$$/g, "")})$`, "u");
    for (const s of strings(alphabet, maxLen)) {
      assert.equal(acceptsText(dfa, s), js.test(s), `${src} on ${JSON.stringify(s)}`);
    }
  }
});

Deno.test("compileRegex() keeps only completable states and exact minimal distances", () => {
  for (const [src, alphabet, maxLen] of CASES) {
    const dfa = compileRegex(src);
    const js = new RegExp(`^(?:${src.replace(/^\^|\$$/g, "")})$`, "u");
    const enc = new TextEncoder();
    // a prefix is live iff some enumerated completion (short enough here) is accepted
    const all = [...strings(alphabet, maxLen)];
    for (const p of all.filter((s) => [...s].length <= 2)) {
      const s = runBytes(dfa, dfa.start, enc.encode(p));
      const completions = all.filter((t) => t.startsWith(p) && js.test(t));
      if (s === null) assert.equal(completions.length, 0, `${src}: ${p} judged dead`);
      else {
        assert.ok(completions.length > 0 || dfa.minBytes(s) > 0, `${src}: ${p} judged live`);
        const best = Math.min(
          ...completions.map((t) => enc.encode(t).length - enc.encode(p).length),
        );
        if (completions.length > 0) assert.ok(dfa.minBytes(s) <= best, `${src}: ${p} min`);
      }
    }
  }
});

Deno.test("compileRegex() judges partial UTF-8 sequences by their possible completions", () => {
  const dfa = compileRegex("é");
  const [b0, b1] = new TextEncoder().encode("é");
  const mid = dfa.step(dfa.start, b0);
  assert.notEqual(mid, null);
  assert.equal(dfa.minBytes(mid!), 1);
  assert.equal(dfa.step(mid!, b1) !== null, true);
  assert.equal(dfa.step(dfa.start, 0xc4), null); // lead byte of Ā..Ŀ: no completion is é
});

Deno.test("compileRegex() rejects unsupported syntax with a coded SyntaxError", () => {
  for (const bad of ["(a", "a)", "[a-", "(?=a)", "\\1", "a\\b", "*a", "a{3,2}", "\\q", "a^"]) {
    assert.throws(
      () => compileRegex(bad),
      (e: Error) => e instanceof SyntaxError && (e as { code?: string }).code === "E_USAGE",
      bad,
    );
  }
  assert.throws(() => compileRegex("[^\\s\\S]"), /matches no output/);
});

Deno.test("compileChoices() accepts exactly the choices", () => {
  const choices = ["yes", "no", "y", "", "naïve"];
  const dfa = compileChoices(choices);
  for (const s of strings(["y", "e", "s", "n", "o"], 4)) {
    assert.equal(acceptsText(dfa, s), choices.includes(s), s);
  }
  assert.ok(acceptsText(dfa, "naïve"));
  assert.throws(() => compileChoices([]), TypeError);
});

Deno.test("utf8Sequences() covers each code point of a range exactly once", () => {
  const enc = new TextEncoder();
  const ranges: [number, number][] = [[0, 0x7f], [0x70, 0x900], [0xd700, 0xe100], [
    0xfff0,
    0x10200,
  ]];
  for (const [lo, hi] of ranges) {
    const seqs = utf8Sequences(lo, hi);
    const match = (bytes: Uint8Array) =>
      seqs.filter((s) =>
        s.length === bytes.length && s.every(([a, b], i) => bytes[i] >= a && bytes[i] <= b)
      )
        .length;
    for (let cp = Math.max(0, lo - 300); cp <= hi + 300; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const inRange = cp >= lo && cp <= hi;
      assert.equal(match(enc.encode(String.fromCodePoint(cp))), inRange ? 1 : 0, cp.toString(16));
    }
    // no sequence matches an encoded surrogate or an overlong form
    assert.equal(match(new Uint8Array([0xed, 0xa0, 0x80])), 0);
    assert.equal(match(new Uint8Array([0xc0, 0x80])), 0);
  }
});
