/**
 * Property-based fuzzing (fast-check, bounded runs and time) of the three parsers a hostile
 * client reaches: the chat-completions request schema, the character-card reader and the
 * constraint compiler. The property is the same for each: any input ends in the result or in a
 * clean input error (a 400 / a coded TypeError, RangeError or SyntaxError), never an uncoded
 * crash, a hang or a stack overflow.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { errorCode } from "../../core/errors.ts";
import { HttpError } from "../../core/host/server/http_error.ts";
import { parseJsonLimited } from "../../core/host/server/body.ts";
import { parseChatCompletionBody, toChatRequest } from "../../core/host/server/request_schema.ts";
import { readCharacterCard } from "../../core/persona/character_card.ts";
import { encodePng, textChunk } from "../../core/persona/png_chunks.ts";
import { automatonFor } from "../../core/model/constraint/constraint_for.ts";
import { withBudget } from "../../core/model/constraint/budget.ts";

const RUNS = { numRuns: 300, interruptAfterTimeLimit: 20_000, seed: 15 };

function isInputError(e: unknown): boolean {
  return e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError;
}

Deno.test("fuzz: the request schema answers any JSON with a request or a 400", () => {
  const message = fc.record({
    role: fc.oneof(
      fc.constantFrom("system", "user", "assistant", "developer", "tool"),
      fc.string(),
    ),
    content: fc.oneof(fc.string(), fc.constant(null), fc.array(fc.anything(), { maxLength: 3 })),
  }, { requiredKeys: [] });
  const body = fc.oneof(
    fc.anything({ maxDepth: 4 }),
    fc.record({
      model: fc.oneof(fc.string(), fc.anything()),
      messages: fc.oneof(fc.array(message, { maxLength: 4 }), fc.anything()),
      max_tokens: fc.oneof(fc.integer(), fc.double(), fc.anything()),
      steering: fc.anything({ maxDepth: 3 }),
      constraint: fc.anything({ maxDepth: 3 }),
      response_format: fc.anything({ maxDepth: 3 }),
      stream: fc.anything(),
    }, { requiredKeys: [] }),
  );
  fc.assert(
    fc.property(body, (value) => {
      try {
        const parsed = parseChatCompletionBody(value);
        const request = toChatRequest(parsed);
        assert.ok(request.messages.length >= 1);
      } catch (e) {
        assert.ok(e instanceof HttpError, `not an HttpError: ${e}`);
        assert.equal(e.status, 400);
      }
    }),
    RUNS,
  );
});

Deno.test("fuzz: request text of any shape and depth parses or is a 400", () => {
  const nested = fc.tuple(fc.nat({ max: 5000 }), fc.constantFrom("[", '{"a":')).map((
    [n, open],
  ) => open.repeat(n) + "1" + (open === "[" ? "]" : "}").repeat(n));
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.json(), nested), (text) => {
      try {
        parseJsonLimited(text);
      } catch (e) {
        assert.ok(e instanceof HttpError && e.status === 400, `${e}`);
      }
    }),
    RUNS,
  );
});

Deno.test("fuzz: the card reader answers any bytes, PNG or JSON, with a card or an input error", () => {
  const b64 = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));
  const pngOf = (chunks: { type: string; data: Uint8Array }[]) => encodePng(chunks);
  const card = fc.oneof(
    fc.uint8Array({ maxLength: 512 }),
    fc.json().map((j) => new TextEncoder().encode(j)),
    fc.json().map((j) =>
      pngOf([textChunk("chara", b64(j)), { type: "IEND", data: new Uint8Array() }])
    ),
    fc.tuple(fc.constantFrom("tEXt", "iTXt", "IHDR", "zTXt"), fc.uint8Array({ maxLength: 256 }))
      .map(([type, data]) => pngOf([{ type, data }, { type: "IEND", data: new Uint8Array() }])),
    fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 299 })).map(([bytes, cut]) => {
      const png = pngOf([textChunk("chara", b64('{"name":"x"}')), {
        type: "IEND",
        data: new Uint8Array(),
      }]);
      const out = new Uint8Array(png.length + bytes.length);
      out.set(png.subarray(0, Math.min(cut, png.length)));
      out.set(bytes, Math.min(cut, png.length));
      return out;
    }),
  );
  fc.assert(
    fc.property(card, (bytes) => {
      try {
        const c = readCharacterCard(bytes, "fuzz");
        assert.equal(typeof c.data.name, "string");
      } catch (e) {
        assert.ok(isInputError(e), `not an input error: ${(e as Error)?.stack ?? e}`);
      }
    }),
    RUNS,
  );
});

Deno.test("fuzz: the constraint compiler ends every regex and schema in an automaton or a coded error", () => {
  const regex = fc.array(
    fc.constantFrom(
      "a",
      "b",
      "(",
      ")",
      "|",
      "*",
      "+",
      "?",
      "{",
      "}",
      ",",
      "3",
      "9",
      "0",
      "[",
      "]",
      "^",
      "-",
      "\\",
      "d",
      ".",
      "{1000}",
      "{2,40}",
    ),
    { maxLength: 24 },
  ).map((parts) => parts.join(""));
  const schema = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.record({
        type: fc.constantFrom("string", "integer", "number", "boolean", "null"),
        minLength: fc.nat({ max: 2_000_000 }),
        maxLength: fc.nat({ max: 50 }),
        minimum: fc.integer({ min: -1000, max: 1000 }),
      }, { requiredKeys: ["type"] }),
      fc.record({ enum: fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 6 }) }),
      fc.record({
        type: fc.constant("array"),
        items: tie("node"),
        maxItems: fc.nat({ max: 5000 }),
      }, { requiredKeys: ["type"] }),
      fc.record({
        type: fc.constant("object"),
        properties: fc.dictionary(fc.string({ maxLength: 4 }), tie("node"), { maxKeys: 4 }),
      }),
      fc.record({ anyOf: fc.array(tie("node"), { maxLength: 3 }) }),
      fc.anything({ maxDepth: 2 }),
    ),
  })).node;
  const request = fc.oneof(
    regex.map((r) => ({ constraint: { regex: r || "a" } })),
    schema.map((s) => ({
      response_format: { type: "json_schema" as const, json_schema: { name: "f", schema: s } },
    })),
    fc.array(fc.string({ maxLength: 8 }), { maxLength: 20 }).map((c) => ({
      constraint: { choices: c },
    })),
  );
  fc.assert(
    fc.property(request, (r) => {
      const t0 = performance.now();
      try {
        // deno-lint-ignore no-explicit-any
        withBudget({ timeMs: 500 }, () => automatonFor(r as any));
      } catch (e) {
        assert.ok(isInputError(e), `not an input error: ${(e as Error)?.stack ?? e}`);
        assert.ok(errorCode(e) !== undefined, `uncoded: ${e}`);
      }
      assert.ok(performance.now() - t0 < 3000, "compiling stayed near its time budget");
    }),
    { ...RUNS, numRuns: 200 },
  );
});
