import { runCli } from "../cli.ts";
import assert from "node:assert/strict";
import { join } from "node:path";

const cli = (env: Record<string, string>, ...args: string[]) => runCli(args, env);

Deno.test("model new + generate --json: same seed, same output; text decodes the token ids", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const env = { DRAMATIS_CACHE: join(dir, "cache") };
    const model = join(dir, "tiny");
    const made = await cli(
      env,
      "model",
      "new",
      model,
      "--preset",
      "tiny-llama",
      "--seed",
      "1",
      "--json",
    );
    assert.equal(made.code, 0, made.stderr);
    assert.equal(JSON.parse(made.stdout).config.model_type, "llama");
    const args = [
      "generate",
      "--model",
      model,
      "--prompt",
      "Hello",
      "--max-tokens",
      "16",
      "--seed",
      "1",
      "--json",
    ];
    const a = await cli(env, ...args);
    const b = await cli(env, ...args);
    assert.equal(a.code, 0, a.stderr);
    const ja = JSON.parse(a.stdout), jb = JSON.parse(b.stdout);
    for (const key of ["text", "token_ids", "tokens_per_second"]) assert.ok(key in ja, key);
    assert.equal(ja.token_ids.length, 16);
    assert.deepEqual(ja.token_ids, jb.token_ids);
    assert.equal(ja.text, jb.text);
    assert.ok(ja.tokens_per_second > 0);
    const c = await cli(env, ...args.slice(0, -2), "2", "--json");
    assert.notDeepEqual(JSON.parse(c.stdout).token_ids, ja.token_ids);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("generate names the directory and the fix when config.json is missing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await cli({}, "generate", "--model", dir, "--prompt", "hi");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /E_MODEL_DIR.*has no config\.json.*model new/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
