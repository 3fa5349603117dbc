import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { formatHelp, parseArgs } from "./args.ts";

const flags = {
  seed: { type: "number" as const, description: "seed", default: 0 },
  model: { type: "string" as const, description: "model", required: true },
  preset: { type: "string" as const, description: "preset", choices: ["a", "b"] },
  tag: { type: "string" as const, description: "tag", multiple: true },
  fast: { type: "boolean" as const, description: "fast" },
};

Deno.test("parseArgs() reads values, defaults, repeats, booleans and positionals", () => {
  const a = parseArgs(
    ["x", "--model", "m", "--tag=1", "--tag", "2", "--no-fast", "--preset", "b", "--", "--y"],
    flags,
    "cmd",
  );
  assert.deepEqual(a.positionals, ["x", "--y"]);
  assert.equal(a.flags.model, "m");
  assert.equal(a.flags.seed, 0);
  assert.deepEqual(a.flags.tag, ["1", "2"]);
  assert.equal(a.flags.fast, false);
  assert.equal(a.flags.preset, "b");
});

Deno.test("parseArgs() rejects unknown flags, bad numbers, bad choices and missing required flags", () => {
  const cases: [string[], RegExp][] = [
    [["--model", "m", "--bogus"], /unknown flag --bogus/],
    [["--model", "m", "--seed", "abc"], /--seed is 'abc', which is not a number/],
    [["--model", "m", "--preset", "c"], /choose one of a, b/],
    [[], /--model is required/],
    [["--model"], /--model needs a value/],
  ];
  for (const [argv, re] of cases) {
    assert.throws(() => parseArgs(argv, flags, "cmd"), (e: Error) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, re);
      return true;
    });
  }
});

Deno.test("parseArgs() skips required checks when --help is given", () => {
  assert.equal(parseArgs(["--help"], flags, "cmd").flags.help, true);
});

Deno.test("formatHelp() lists every flag with its notes", () => {
  const text = formatHelp("dramatis x", { description: "Does x.", flags, positionals: ["<dir>"] });
  assert.match(text, /^Usage: dramatis x <dir> \[flags\]/);
  for (const name of ["seed", "model", "preset", "tag", "fast", "json", "help", "plugin"]) {
    assert.match(text, new RegExp(`--${name}\\b`));
  }
  assert.match(text, /required/);
  assert.match(text, /one of: a, b/);
});
