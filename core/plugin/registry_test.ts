import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import { PluginError } from "../errors.ts";
import { PluginRegistry } from "./registry.ts";

const valid = () => ({
  name: "demo_plugin",
  version: "1.0.0",
  description: "a demo",
  options: z.object({ k: z.number().int().min(1).default(2) }),
  provides: ["judge"],
  create: (o: { k: number }) => ({ judges: {}, k: o.k }),
});

function pluginError(fn: () => unknown): PluginError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof PluginError, String(error));
    return error;
  }
  assert.fail("expected a PluginError");
}

Deno.test("PluginRegistry.register() accepts a well-formed plugin", () => {
  const r = new PluginRegistry();
  r.register(valid());
  assert.deepEqual(r.names(), ["demo_plugin"]);
  assert.equal(r.get("demo_plugin").version, "1.0.0");
});

Deno.test("PluginRegistry.register() rejects names that break the rule", () => {
  for (const name of ["Demo", "1abc", "has-dash", "", "a b"]) {
    const e = pluginError(() => new PluginRegistry().register({ ...valid(), name }, "x.ts"));
    assert.equal(e.code, "E_PLUGIN_NAME");
    assert.match(e.message, /field 'name'/);
    assert.match(
      e.message,
      new RegExp(JSON.stringify(name).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")),
    );
  }
});

Deno.test("PluginRegistry.register() rejects a duplicate name naming both sources", () => {
  const r = new PluginRegistry();
  r.register(valid(), "built-in");
  const e = pluginError(() => r.register(valid(), "./other.ts"));
  assert.equal(e.code, "E_PLUGIN_DUPLICATE");
  assert.match(e.message, /\.\/other\.ts/);
  assert.match(e.message, /built-in/);
});

Deno.test("PluginRegistry.register() names the malformed field", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ version: 3 }, "version"],
    [{ options: { not: "zod" } }, "options"],
    [{ provides: ["oracle"] }, "provides"],
    [{ create: "nope" }, "create"],
    [{ commands: [{ name: "Bad Name", description: "", run() {} }] }, "commands\\[0\\]"],
    [{ routes: [{ method: "GET", path: "no-slash", handler() {} }] }, "routes\\[0\\]"],
  ];
  for (const [patch, field] of cases) {
    const e = pluginError(() => new PluginRegistry().register({ ...valid(), ...patch }, "p.ts"));
    assert.equal(e.code, "E_PLUGIN_SHAPE");
    assert.match(e.message, new RegExp(field));
  }
});

Deno.test("PluginRegistry.instantiate() validates options and applies defaults", async () => {
  const r = new PluginRegistry();
  r.register(valid());
  const roles = await r.instantiate("demo_plugin", {}) as unknown as { k: number };
  assert.equal(roles.k, 2);
  await assert.rejects(() => r.instantiate("demo_plugin", { k: 0 }), (e: PluginError) => {
    assert.equal(e.code, "E_PLUGIN_OPTIONS");
    assert.match(e.message, /demo_plugin/);
    assert.match(e.message, /option 'k' is 0/);
    return true;
  });
});

Deno.test("PluginRegistry.get() lists the known names for an unknown plugin", () => {
  const r = new PluginRegistry();
  r.register(valid());
  const e = pluginError(() => r.get("nope"));
  assert.equal(e.code, "E_PLUGIN_UNKNOWN");
  assert.match(e.message, /demo_plugin/);
});

Deno.test("PluginRegistry.load() imports a default-exported plugin by relative or absolute path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const zodUrl = import.meta.resolve("zod");
    const file = join(dir, "my_plugin.ts");
    await Deno.writeTextFile(
      file,
      `import { z } from "${zodUrl}";\nexport default { name: "from_file", version: "0.0.1", ` +
        `description: "d", options: z.object({}), provides: [], create: () => ({}) };\n`,
    );
    const r = new PluginRegistry();
    assert.equal((await r.load(file)).name, "from_file");
    const missing = join(dir, "missing.ts");
    await assert.rejects(() => r.load(missing), (e: PluginError) => e.code === "E_PLUGIN_LOAD");
    const noDefault = join(dir, "no_default.ts");
    await Deno.writeTextFile(noDefault, "export const x = 1;\n");
    await assert.rejects(() => r.load(noDefault), (e: PluginError) => e.code === "E_PLUGIN_SHAPE");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("PluginRegistry.register() checks request extensions: shape, core names, wrappers and one owner per name", () => {
  const ext = (name: string, appliesTo = "adapter") => ({
    name,
    description: "d",
    schema: z.array(z.string()),
    appliesTo,
  });
  const r = new PluginRegistry();
  r.register({ ...valid(), requestExtensions: [ext("moods")] });
  assert.deepEqual(r.requestExtensions().map((e) => e.name), ["moods"]);
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ requestExtensions: [{ name: "x" }] }, "E_PLUGIN_SHAPE", /requestExtensions\[0\]/],
    [{ requestExtensions: [ext("Bad-Name")] }, "E_PLUGIN_SHAPE", /requestExtensions\[0\]/],
    [{ requestExtensions: [ext("steering")] }, "E_PLUGIN_SHAPE", /core already defines/],
    [{ requestExtensions: [ext("temperature")] }, "E_PLUGIN_SHAPE", /core already defines/],
    [{ requestExtensions: [ext("x", "somewhere")] }, "E_PLUGIN_SHAPE", /appliesTo/],
    [{ requestExtensions: [ext("x", "wrapper")] }, "E_PLUGIN_SHAPE", /no wrapLocalModel/],
    [{ requestExtensions: [ext("moods")] }, "E_PLUGIN_DUPLICATE", /'moods' is already defined/],
  ];
  for (const [extra, code, message] of cases) {
    const e = pluginError(() => r.register({ ...valid(), name: "other", ...extra }));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
  }
  // A wrapper extension with its wrapper is fine.
  r.register({
    ...valid(),
    name: "wrapping",
    requestExtensions: [ext("lens", "wrapper")],
    wrapLocalModel: (m: unknown) => m,
  });
  assert.deepEqual(r.requestExtensions().map((e) => [e.name, e.appliesTo]), [
    ["moods", "adapter"],
    ["lens", "wrapper"],
  ]);
});
