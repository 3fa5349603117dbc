import assert from "node:assert/strict";
import { join } from "node:path";
import { HOST_VERBS } from "./verbs/mod.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;
const EXAMPLE = "./examples/third_party_plugin/mod.ts";

async function cli(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function withPluginFile(body: string, fn: (path: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "bad_plugin.ts");
    const zodUrl = import.meta.resolve("zod");
    await Deno.writeTextFile(path, `import { z } from "${zodUrl}";\n${body}`);
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("main() plugins --json lists loaded plugins with their options as JSON Schema", async () => {
  const r = await cli("plugins", "--plugin", EXAMPLE, "--json");
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  const p = doc.plugins.find((x: { name: string }) => x.name === "lexicon_judge");
  assert.ok(p, r.stdout);
  assert.equal(p.options.type, "object");
  assert.equal(p.options.properties.window.maximum, 5);
  assert.deepEqual(p.provides, ["judge"]);
  assert.equal(p.commands[0].name, "score");
});

Deno.test("main() rejects a plugin with a bad name in one line with exit 2", async () => {
  await withPluginFile(
    `export default { name: "Bad-Name", version: "1", description: "", options: z.object({}), provides: [], create: () => ({}) };`,
    async (path) => {
      const r = await cli("plugins", "--plugin", path, "--json");
      assert.equal(r.code, 2);
      assert.equal(r.stdout, "");
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /E_PLUGIN_NAME.*Bad-Name.*field 'name'/);
    },
  );
});

Deno.test("main() rejects a duplicate plugin name with exit 2", async () => {
  const r = await cli("plugins", "--plugin", EXAMPLE, "--plugin", EXAMPLE);
  assert.equal(r.code, 2);
  assert.match(r.stderr.trim(), /^dramatis: error\[E_PLUGIN_DUPLICATE\]: plugin lexicon_judge/);
});

Deno.test("main() rejects plugin options that fail the schema, naming plugin and field", async () => {
  const r = await cli(
    "plugins",
    "--plugin",
    EXAMPLE,
    "--plugin-options",
    'lexicon_judge={"window":9}',
  );
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /E_PLUGIN_OPTIONS.*lexicon_judge.*option 'window' is 9/);
});

Deno.test("main() rejects a plugin whose options field is not a zod schema", async () => {
  await withPluginFile(
    `export default { name: "shapeless", version: "1", description: "", options: {}, provides: [], create: () => ({}) };`,
    async (path) => {
      const r = await cli("plugins", "--plugin", path);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /E_PLUGIN_SHAPE.*shapeless.*field 'options'/);
    },
  );
});

Deno.test("main() runs a plugin command with --json", async () => {
  const r = await cli(
    "--plugin",
    EXAMPLE,
    "lexicon_judge",
    "score",
    "--text",
    "so wonderful",
    "--json",
  );
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.ok(doc.verdicts[0].value.score > 0);
});

Deno.test("main() prints --help for every verb and exits 0", async () => {
  for (const verb of HOST_VERBS) {
    const r = await cli(verb.name, "--help");
    assert.equal(r.code, 0, `${verb.name}: ${r.stderr}`);
    assert.match(r.stdout, /^Usage: dramatis /, verb.name);
  }
});

Deno.test("main() answers an unknown verb with exit 2 and the list of verbs", async () => {
  const r = await cli("frobnicate");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown verb or plugin 'frobnicate'; verbs: start, plugins/);
});
