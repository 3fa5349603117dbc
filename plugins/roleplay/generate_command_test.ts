import { ModelHub } from "../../core/services/model_hub.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseArgs } from "../../core/host/args.ts";
import { baseOptions, generateCommand, readPersonaFeatures } from "./generate_command.ts";
import { roleplayOptionsSchema } from "./options.ts";
import { makePersona } from "./persona.ts";

const features = {
  age: "a 25 to 34",
  race: "White",
  gender: "Female",
  education: "Master's degree",
  native_english: "is",
};

const ctx = {
  models: new ModelHub(),
  json: true,
  log: () => {},
  signal: new AbortController().signal,
};

const run = async (argv: string[]) =>
  await generateCommand.run(parseArgs(argv, generateCommand.flags!, "roleplay generate"), ctx);

Deno.test("readPersonaFeatures() reads inline JSON and files, one object or an array", async () => {
  const expected = makePersona(features);
  assert.deepEqual(await readPersonaFeatures(JSON.stringify(features)), [expected]);
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "p.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify([features, { ...features, race: "Asian or Pacific Islander" }]),
    );
    const ps = await readPersonaFeatures(file);
    assert.equal(ps.length, 2);
    assert.equal(ps[0].persona_hash, expected.persona_hash);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  await assert.rejects(readPersonaFeatures("[]"), /empty array/);
  await assert.rejects(readPersonaFeatures("{nope"), /not valid JSON/);
  await assert.rejects(
    readPersonaFeatures("/no/such/file.json"),
    /neither inline JSON nor a readable file/,
  );
  await assert.rejects(readPersonaFeatures('{"age": "a 18 to 24"}'), /persona feature "race"/);
});

Deno.test("generateCommand rejects conflicting or out-of-range flags before opening a model", async () => {
  const base = ["--inquirer", "openai:x", "--responder", "openai:y", "--out", "/tmp/none"];
  await assert.rejects(
    run([...base, "--personas", "2", "--persona-features", "{}"]),
    /--personas <n> or --persona-features <json>, not both/,
  );
  await assert.rejects(run([...base, "--turns", "0"]), /--turns is 0; pass a whole number >= 1/);
  await assert.rejects(run([...base, "--samples", "1.5"]), /--samples is 1.5/);
  await assert.rejects(
    run(["--inquirer", "x.json", "--responder", "openai:y", "--out", "/tmp/none"]),
    /persona:x\.json/,
  );
  await assert.rejects(run([...base, "extra"]), /no positional arguments/);
});

Deno.test("baseOptions() takes --plugin-options roleplay=JSON when the host gives it", () => {
  assert.equal(baseOptions(ctx).numTurns, 12);
  const given = roleplayOptionsSchema.parse({ numTurns: 4, stopToken: "DONE" });
  const o = baseOptions({ ...ctx, pluginOptions: new Map([["roleplay", given]]) });
  assert.equal(o.numTurns, 4);
  assert.equal(o.stopToken, "DONE");
});
