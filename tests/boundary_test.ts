/**
 * The layer rules of DESIGN §1, checked on every import in the repository:
 *
 * - core (files that are not tests) never imports `plugins/` or `benchmark/`;
 * - a plugin never imports the host (`core/host/`) outside its tests (tests may drive the real
 *   host end to end);
 * - a plugin imports another plugin only through that plugin's `mod.ts`;
 * - the third-party examples import only the public API (`mod.ts`, `core/mod.ts`) and npm (their
 *   tests may add the shared conformance suites in `tests/` and drive the host end to end);
 * - models are built in one place: `Engine.load(`, `new LocalChatModel(`, `new OpenAIChatModel(`
 *   and `new OpenAI(` appear in code (not comments) only in `core/services/` and tests, besides
 *   the few files {@link CONSTRUCTION_ALLOWED} names with their reason.
 *
 * Imports are read from the source text (static `import`/`export … from` and dynamic
 * `import("…")` with a string literal), resolved relative to the importing file.
 */

import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..");
const SKIP = new Set(["node_modules", ".cache", "runs", ".git"]);

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    if (SKIP.has(e.name)) continue;
    const path = join(dir, e.name);
    if (e.isDirectory) yield* sourceFiles(path);
    else if (/\.(ts|tsx|js|mjs)$/.test(e.name)) yield path;
  }
}

/** The relative specifiers a source file imports, resolved to repository paths. */
export function importsOf(text: string, file: string): string[] {
  const out: string[] = [];
  const patterns = [
    /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/g,
    /(?:^|\n)\s*import\s*["']([^"']+)["']/g,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  ];
  // Doc comments hold example imports; they are not imports of this file.
  const code = stripComments(text);
  for (const re of patterns) {
    for (const m of code.matchAll(re)) {
      const spec = m[1];
      if (spec.startsWith(".")) out.push(relative(ROOT, resolve(dirname(file), spec)));
      else out.push(spec);
    }
  }
  return out;
}

/** Strips block and line comments (doc comments hold example code, not code of the file). */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/[^\n]*/g, "$1");
}

/** The model constructions the one-hub rule counts. */
const CONSTRUCTIONS = [
  /\bEngine\.load\s*\(/g,
  /\bnew\s+LocalChatModel\s*\(/g,
  /\bnew\s+OpenAIChatModel\s*\(/g,
  /\bnew\s+OpenAI\s*\(/g,
];

/** Files outside core/services and tests that may construct, and why. */
export const CONSTRUCTION_ALLOWED: Record<string, string> = {
  "core/model/engine.ts": "defines Engine.load",
  "core/chat/openai_chat_model.ts": "OpenAIChatModel wraps the official client it constructs",
  "benchmark/serve.ts":
    "the official openai client is the HTTP load generator against the server under test " +
    "(a client of the server, as in the tests), not a model",
};

/** The model constructions in a file's code (comments left out), as `line: text`. */
export function constructionsOf(text: string): string[] {
  const code = stripComments(text);
  const out: string[] = [];
  for (const re of CONSTRUCTIONS) {
    for (const m of code.matchAll(re)) {
      const line = code.slice(0, m.index).split("\n").length;
      out.push(`${line}: ${m[0].replace(/\s+/g, " ")}`);
    }
  }
  return out;
}

/** Whether a file may construct models (core/services, tests, the allowed files). */
export function mayConstruct(path: string): boolean {
  return path.startsWith("core/services/") || isTest(path) || path.startsWith("tests/") ||
    path in CONSTRUCTION_ALLOWED;
}

/** Tests and their support folders (`testing/`) may drive the real host end to end. */
const isTest = (path: string) => /_test\.ts$/.test(path) || /(^|\/)testing\//.test(path);
const pluginOf = (path: string) => path.match(/^plugins\/([^/]+)\//)?.[1];

/** The rule an import breaks, or null. */
export function violation(from: string, to: string): string | null {
  if (from.startsWith("core/") && !isTest(from) && /^(plugins|benchmark)(\/|$)/.test(to)) {
    return "core imports a plugin or the benchmarks; pass them in from main.ts";
  }
  const plugin = pluginOf(from);
  if (plugin) {
    if (to.startsWith("core/host/") && !isTest(from)) {
      return "a plugin imports the host; use core services";
    }
    const other = pluginOf(to);
    if (other && other !== plugin && to !== `plugins/${other}/mod.ts`) {
      return `a plugin imports ${other}'s internals; import plugins/${other}/mod.ts`;
    }
  }
  const example = /^examples\/(third_party_plugin|nudge_plugin)\//.test(from);
  if (example && !to.startsWith("examples/")) {
    const publicApi = ["mod.ts", "core/mod.ts"].includes(to) ||
      (!/^[a-z_]+\//.test(to) && !to.endsWith(".ts")) ||
      (isTest(from) && /^(tests|core\/host)\//.test(to));
    if (!publicApi) return "the third-party example imports beyond the public API (mod.ts)";
  }
  return null;
}

Deno.test("violation() names each broken layer rule", () => {
  assert.match(violation("core/host/cli.ts", "plugins/mod.ts")!, /core imports a plugin/);
  assert.match(violation("core/host/verbs/x.ts", "benchmark/decode.ts")!, /benchmarks/);
  assert.equal(violation("core/host/cli_test.ts", "plugins/mod.ts"), null);
  assert.match(violation("plugins/gca/a.ts", "core/host/model_spec.ts")!, /imports the host/);
  assert.match(violation("plugins/persona_vectors/a.ts", "plugins/lora/load_lora.ts")!, /lora/);
  assert.equal(violation("plugins/persona_vectors/a.ts", "plugins/lora/mod.ts"), null);
  assert.equal(violation("plugins/gca/a.ts", "plugins/gca/b.ts"), null);
  assert.match(
    violation("examples/third_party_plugin/mod.ts", "core/model/engine.ts")!,
    /public API/,
  );
  assert.equal(violation("examples/third_party_plugin/mod.ts", "mod.ts"), null);
  assert.equal(violation("examples/third_party_plugin/mod.ts", "zod"), null);
  assert.equal(violation("plugins/gca/a_test.ts", "core/host/server/serve.ts"), null);
  assert.equal(
    violation("examples/third_party_plugin/a_test.ts", "tests/conformance/judge.ts"),
    null,
  );
  assert.deepEqual(
    importsOf(
      'import { a } from "../../plugins/mod.ts";\nconst m = await import("./x.ts");',
      join(ROOT, "core/host/cli.ts"),
    ),
    ["plugins/mod.ts", "core/host/x.ts"],
  );
});

Deno.test("constructionsOf() finds model constructions in code, not in comments", () => {
  const text = [
    "/** const e = await Engine.load(dir); new OpenAI({}) */",
    "// new LocalChatModel(engine)",
    "const e = await Engine.load(dir, {});",
    "const m = new  LocalChatModel(e);",
    "const c = new OpenAI({ apiKey });",
    "const o = new OpenAIChatModel({});",
    "const h = await hub.openEngine(dir);",
  ].join("\n");
  assert.deepEqual(constructionsOf(text).sort(), [
    "3: Engine.load(",
    "4: new LocalChatModel(",
    "5: new OpenAI(",
    "6: new OpenAIChatModel(",
  ]);
  assert.equal(mayConstruct("core/services/model_hub.ts"), true);
  assert.equal(mayConstruct("plugins/gca/embeddings_test.ts"), true);
  assert.equal(mayConstruct("tests/e2e/x.ts"), true);
  assert.equal(mayConstruct("benchmark/long.ts"), false);
  assert.equal(mayConstruct("plugins/gca/embeddings.ts"), false);
  assert.equal(mayConstruct("core/host/verbs/generate.ts"), false);
});

Deno.test("no import in the repository crosses a layer boundary, and models are built only by the hub", async () => {
  const broken: string[] = [];
  const built: string[] = [];
  const scanned = { core: 0, plugins: 0, benchmark: 0, examples: 0, imports: 0, constructions: 0 };
  for await (const file of sourceFiles(ROOT)) {
    const from = relative(ROOT, file);
    const area = from.split("/")[0] as keyof typeof scanned;
    if (area in scanned && area !== "imports" && area !== "constructions") scanned[area]++;
    const text = await Deno.readTextFile(file);
    for (const to of importsOf(text, file)) {
      scanned.imports++;
      const why = violation(from, to);
      if (why) broken.push(`${from} → ${to}: ${why}`);
    }
    const sites = constructionsOf(text);
    scanned.constructions += sites.length;
    if (!mayConstruct(from)) {
      for (const site of sites) built.push(`${from}:${site} (build it with the ModelHub)`);
    }
  }
  // Not vacuous: the walk saw every layer, their imports and the hub's own constructions.
  assert.ok(scanned.core > 100, `scanned ${scanned.core} core files`);
  assert.ok(scanned.plugins > 100, `scanned ${scanned.plugins} plugin files`);
  assert.ok(scanned.benchmark > 3, `scanned ${scanned.benchmark} benchmark files`);
  assert.ok(scanned.examples > 1, `scanned ${scanned.examples} example files`);
  assert.ok(scanned.imports > 1000, `read ${scanned.imports} imports`);
  assert.ok(scanned.constructions > 3, `found ${scanned.constructions} construction sites`);
  assert.deepEqual(broken, [], broken.join("\n"));
  assert.deepEqual(built, [], built.join("\n"));
});

/** The files `export * from` reaches from `start` (the public API's modules). */
async function exportClosure(start: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const walk = async (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = stripComments(await Deno.readTextFile(join(ROOT, file)));
    for (const m of code.matchAll(/export\s+\*\s+from\s+["']([^"']+)["']/g)) {
      await walk(relative(ROOT, resolve(dirname(join(ROOT, file)), m[1])));
    }
  };
  await walk(start);
  return seen;
}

/** Named imports of a file from core: `{ from, name, type }` (type-only imports flagged). */
export function coreImportsOf(
  text: string,
  file: string,
): { from: string; name: string; type: boolean }[] {
  const out: { from: string; name: string; type: boolean }[] = [];
  const code = stripComments(text);
  for (const m of code.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s*from\s*["']([^"']+)["']/g)) {
    if (!m[3].startsWith(".")) continue;
    const from = relative(ROOT, resolve(dirname(file), m[3]));
    if (!from.startsWith("core/")) continue;
    for (const part of m[2].split(",").map((x) => x.trim()).filter(Boolean)) {
      const type = m[1] !== undefined || part.startsWith("type ");
      out.push({ from, name: part.replace(/^type\s+/, "").split(/\s+as\s+/)[0], type });
    }
  }
  return out;
}

Deno.test("coreImportsOf() reads named value and type imports from core", () => {
  const text = 'import { a, type B, c as d } from "../../core/x.ts";\n' +
    'import type { E } from "../../core/y/z.ts";\nimport { f } from "./own.ts";';
  assert.deepEqual(coreImportsOf(text, join(ROOT, "plugins/p/m.ts")), [
    { from: "core/x.ts", name: "a", type: false },
    { from: "core/x.ts", name: "B", type: true },
    { from: "core/x.ts", name: "c", type: false },
    { from: "core/y/z.ts", name: "E", type: true },
  ]);
});

Deno.test("everything the built-in plugins import from core is public: mod.ts exports it", async () => {
  const core = await import("../core/mod.ts") as Record<string, unknown>;
  const api = await import("../mod.ts") as Record<string, unknown>;
  const publicFiles = await exportClosure("core/mod.ts");
  const missing = new Set<string>();
  let checked = 0;
  for await (const file of sourceFiles(join(ROOT, "plugins"))) {
    const from = relative(ROOT, file);
    if (isTest(from)) continue;
    for (const imp of coreImportsOf(await Deno.readTextFile(file), file)) {
      checked++;
      // Values: exported by core/mod.ts and not lost to a name clash in mod.ts. Types: declared
      // in a module core/mod.ts re-exports (a clash there fails `deno check`).
      const ok = imp.type
        ? publicFiles.has(imp.from)
        : imp.name in core && api[imp.name] === core[imp.name];
      if (!ok) {
        missing.add(`${imp.from}: ${imp.name}${imp.type ? " (type)" : ""} (used by ${from})`);
      }
    }
  }
  assert.ok(checked > 300, `checked ${checked} imports of core`);
  assert.ok(publicFiles.size > 100, `core/mod.ts re-exports ${publicFiles.size} modules`);
  assert.deepEqual([...missing], [], [...missing].join("\n"));
});
