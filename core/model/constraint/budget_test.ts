import assert from "node:assert/strict";
import { errorCode } from "../../errors.ts";
import { acceptsText } from "./automaton.ts";
import { compileChoices, compileRegex } from "./byte_dfa.ts";
import { compileOffThread } from "./compile_off_thread.ts";
import { automatonFor, checkSchemaSize } from "./constraint_for.ts";
import { withBudget } from "./budget.ts";

function refused(fn: () => unknown, limit: string) {
  assert.throws(fn, (e: Error) => {
    assert.ok(e instanceof RangeError, `${e}`);
    assert.equal(errorCode(e), "E_LIMIT");
    assert.match(e.message, new RegExp(`compile limit ${limit} =`));
    return true;
  });
}

Deno.test("compileRegex() refuses nested repetitions while expanding, before building anything", () => {
  refused(() => compileRegex("((a{1000}){1000}){1000}"), "maxExpandedStates");
  refused(() => compileRegex("(".repeat(100) + "a" + ")".repeat(100)), "maxRegexNesting");
  assert.ok(acceptsText(compileRegex("(ab){2,3}"), "ababab"));
});

Deno.test("a DFA blow-up stops at the time limit", () => {
  refused(() => withBudget({ timeMs: 200 }, () => compileRegex("(a|b)*a(a|b){30}")), "timeMs");
});

Deno.test("checkSchemaSize() refuses deep, wide and huge schemas", () => {
  let deep: Record<string, unknown> = { type: "string" };
  for (let i = 0; i < 20_000; i++) deep = { type: "array", items: deep };
  refused(() => checkSchemaSize(deep), "maxSchemaDepth");
  refused(
    () => checkSchemaSize({ enum: Array.from({ length: 50_000 }, (_, i) => i) }),
    "maxChoices",
  );
  refused(
    () =>
      automatonFor({
        response_format: {
          type: "json_schema",
          json_schema: { name: "s", schema: { type: "string", minLength: 1_000_000 } },
        },
      }),
    "maxExpandedStates",
  );
  refused(() => compileChoices(Array.from({ length: 50_000 }, (_, i) => `c${i}`)), "maxChoices");
});

Deno.test("compileOffThread() compiles in a Worker and caches; refusals keep their code", async () => {
  const request = { constraint: { regex: "[a-c]{2}x" } };
  await compileOffThread(request);
  assert.ok(acceptsText(automatonFor(request)!, "abx"));
  await assert.rejects(
    () => compileOffThread({ constraint: { regex: "((a{1000}){1000}){1000}" } }),
    (e: Error) => e instanceof RangeError && errorCode(e) === "E_LIMIT",
  );
  await assert.rejects(
    () => compileOffThread({ constraint: { regex: "(unclosed" } }),
    (e: Error) => errorCode(e) === "E_USAGE",
  );
});
