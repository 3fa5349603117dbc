import assert from "node:assert/strict";
import { z } from "zod";
import { Prng } from "../../util/prng.ts";
import { acceptsText, type ByteAutomaton } from "./automaton.ts";
import { compileDfa } from "./byte_dfa.ts";
import { schemaToRegex } from "./json_schema.ts";

const dfaOf = (schema: Record<string, unknown>) => compileDfa(schemaToRegex(schema));

/** A random accepted output: random live bytes, stopping at random once complete. */
function randomWalk<S>(a: ByteAutomaton<S>, prng: Prng, budget: number): string {
  let s = a.start;
  const out: number[] = [];
  for (;;) {
    if (a.accepting(s) && (prng.next() < 0.15 || out.length >= budget)) break;
    const options: [number, S][] = [];
    for (let b = 0; b < 256; b++) {
      const n = a.step(s, b);
      if (n !== null && a.minBytes(n) <= Math.max(budget - out.length - 1, a.minBytes(s) - 1)) {
        options.push([b, n]);
      }
    }
    if (options.length === 0) break;
    const [b, n] = options[prng.int(options.length)];
    out.push(b);
    s = n;
  }
  assert.ok(a.accepting(s));
  return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(out));
}

Deno.test("schemaToRegex() integer bounds accept exactly the integers in range", () => {
  const ranges: [number | undefined, number | undefined][] = [
    [0, 0],
    [1, 5],
    [-7, 12],
    [-120, -3],
    [95, 1234],
    [undefined, 20],
    [-20, undefined],
  ];
  for (const [lo, hi] of ranges) {
    const dfa = dfaOf({ type: "integer", minimum: lo, maximum: hi });
    for (let n = -1500; n <= 1500; n++) {
      const want = (lo === undefined || n >= lo) && (hi === undefined || n <= hi);
      assert.equal(acceptsText(dfa, String(n)), want, `[${lo}, ${hi}] ${n}`);
    }
    for (const bad of ["-0", "01", "+1", "1.0", "1e2", ""]) assert.ok(!acceptsText(dfa, bad), bad);
  }
  const excl = dfaOf({ type: "integer", exclusiveMinimum: 2, exclusiveMaximum: 6 });
  assert.deepEqual([...Array(10).keys()].filter((n) => acceptsText(excl, String(n))), [3, 4, 5]);
});

Deno.test("schemaToRegex() numbers stay inside their bounds", () => {
  const prng = new Prng(3);
  const cases: [Record<string, unknown>, (x: number) => boolean][] = [
    [{ minimum: -2.5, maximum: 10 }, (x) => x >= -2.5 && x <= 10],
    [{ exclusiveMinimum: 0 }, (x) => x > 0],
    [{ exclusiveMaximum: -1.5 }, (x) => x < -1.5],
    [{ minimum: -1, maximum: 0 }, (x) => x >= -1 && x <= 0],
    [{}, (x) => Number.isFinite(x)],
  ];
  for (const [bounds, ok] of cases) {
    const dfa = dfaOf({ type: "number", ...bounds });
    for (let i = 0; i < 400; i++) {
      const text = randomWalk(dfa, prng, 30);
      assert.ok(ok(JSON.parse(text)), `${JSON.stringify(bounds)}: ${text}`);
    }
  }
});

Deno.test("schemaToRegex() objects keep schema order and every required property", () => {
  const dfa = dfaOf({
    type: "object",
    properties: { a: { const: 1 }, b: { const: 2 }, c: { const: 3 }, d: { const: 4 } },
    required: ["a", "c"],
  });
  const names = ["a", "b", "c", "d"];
  const value: Record<string, number> = { a: 1, b: 2, c: 3, d: 4 };
  // every ordered selection of distinct properties (all permutations of all subsets)
  const perms = (
    rest: string[],
  ): string[][] => [
    [],
    ...rest.flatMap((x) => perms(rest.filter((y) => y !== x)).map((p) => [x, ...p])),
  ];
  for (const p of perms(names)) {
    const text = "{" + p.map((k) => `"${k}":${value[k]}`).join(",") + "}";
    const inOrder = p.every((k, i) => i === 0 || names.indexOf(p[i - 1]) < names.indexOf(k));
    const want = inOrder && p.includes("a") && p.includes("c");
    assert.equal(acceptsText(dfa, text), want, text);
  }
  const optionalOnly = dfaOf({ type: "object", properties: { x: { type: "null" } } });
  assert.ok(acceptsText(optionalOnly, "{}"));
  assert.ok(acceptsText(optionalOnly, '{"x":null}'));
  assert.ok(!acceptsText(optionalOnly, '{,"x":null}'));
});

Deno.test("schemaToRegex() random outputs of zod schemas pass zod", () => {
  const Node: z.ZodType<{ name: string; kids?: unknown[] }> = z.object({
    name: z.string().max(3),
    get kids() {
      return z.array(Node).max(2).optional();
    },
  });
  const schemas: z.ZodType[] = [
    z.object({ s: z.string().min(2).max(4), n: z.number(), b: z.boolean(), nil: z.null() }),
    z.array(z.union([z.literal("x"), z.int().min(-3).max(3)])).min(1).max(4),
    z.object({ when: z.iso.date(), id: z.uuid(), e: z.enum(["a", "é"]) }),
    z.object({ t: z.tuple([z.string(), z.boolean()]), m: z.record(z.string(), z.number()) }),
    z.string().regex(/^[a-c]+\d?$/),
    z.string().regex(/ab/),
    z.object({ anything: z.any(), maybe: z.number().nullable().optional() }),
    Node,
  ];
  const prng = new Prng(11);
  for (const schema of schemas) {
    const dfa = dfaOf(z.toJSONSchema(schema) as Record<string, unknown>);
    for (let i = 0; i < 150; i++) {
      const text = randomWalk(dfa, prng, 80);
      const r = schema.safeParse(JSON.parse(text));
      assert.ok(
        r.success,
        `${JSON.stringify(z.toJSONSchema(schema))}\n${text}\n${r.error?.message}`,
      );
    }
  }
});

Deno.test("schemaToRegex() rejects keywords it cannot enforce", () => {
  for (
    const bad of [
      { not: { type: "null" } },
      { type: "integer", multipleOf: 2 },
      { allOf: [{ type: "string" }, { maxLength: 2 }] },
      { type: "wat" },
      { type: "object", properties: {}, required: ["x"] },
      { $ref: "#/$defs/missing" },
    ]
  ) {
    assert.throws(() => schemaToRegex(bad), TypeError, JSON.stringify(bad));
  }
});
