import { runCli } from "../cli.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ModelHub } from "../../core/services/model_hub.ts";
import { errorCode } from "../../core/errors.ts";

const cli = (env: Record<string, string>, ...args: string[]) => runCli(args, env);

async function graphsIn(cache: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(join(cache, "graphs"))) {
    if (e.isDirectory && /^[0-9a-f]{24}$/.test(e.name)) out.push(e.name);
  }
  return out.sort();
}

Deno.test("generate --dtype int8 / DRAMATIS_DTYPE=int4:32 build quantized graphs; a bad dtype is E_USAGE", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cache = join(dir, "cache");
    const model = join(dir, "tiny");
    const made = await cli({}, "model", "new", model, "--preset", "tiny-llama", "--seed", "1");
    assert.equal(made.code, 0, made.stderr);
    const gen = ["generate", "--model", model, "--prompt", "Hello", "--max-tokens", "6"];
    const a = await cli({ DRAMATIS_CACHE: cache }, ...gen, "--dtype", "int8", "--json");
    assert.equal(a.code, 0, a.stderr);
    assert.equal(JSON.parse(a.stdout).token_ids.length, 6);
    assert.equal((await graphsIn(cache)).length, 1);
    const onnx = async (name: string) =>
      new TextDecoder("latin1").decode(
        await Deno.readFile(join(cache, "graphs", name, "model.onnx")),
      );
    const [int8] = await graphsIn(cache);
    assert.match(await onnx(int8), /MatMulNBits/);
    const b = await cli({ DRAMATIS_CACHE: cache, DRAMATIS_DTYPE: "int4:32" }, ...gen, "--json");
    assert.equal(b.code, 0, b.stderr);
    const all = await graphsIn(cache);
    assert.equal(all.length, 2, "int4 is its own cached graph");
    // blocks of 32 divide the tiny model's hidden size (64), so the embedding is quantized too
    assert.match(await onnx(all.find((g) => g !== int8)!), /GatherBlockQuantized/);
    const bad = await cli({ DRAMATIS_CACHE: cache }, ...gen, "--dtype", "int3");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /E_USAGE.*--dtype.*int3.*int4/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an experiment's local model options carry dtype and threads, checked", async () => {
  const factory = new ModelHub().experimentFactory();
  const entry = (options: Record<string, unknown>) => ({
    id: "m",
    spec: { kind: "local" as const, path: "/nonexistent/model", options },
    baseDir: ".",
  });
  for (const bad of [{ dtype: "q4" }, { dtype: 4 }, { threads: 0 }, { thread: 2 }]) {
    await assert.rejects(
      () => Promise.resolve(factory(entry(bad))),
      (e: unknown) => errorCode(e) === "E_CONFIG",
      JSON.stringify(bad),
    );
  }
  // Good options pass the check and fail only at the missing model.
  await assert.rejects(
    () => Promise.resolve(factory(entry({ dtype: "int4:128", threads: 2 }))),
    (e: unknown) => errorCode(e) !== "E_CONFIG" || /nonexistent/.test(String(e)),
  );
});
