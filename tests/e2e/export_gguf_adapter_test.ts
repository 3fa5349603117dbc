/**
 * `model export-gguf --adapter`: a LoRA adapter merged into the GGUF gives, in llama.cpp
 * (node-llama-cpp's prebuilt CPU build), the same greedy tokens as this project's engine running
 * the base model with the adapter attached — on the real babyllama-105 checkpoint at f32 (skipped
 * with a message where ../shared is absent).
 */

import { runCli } from "../cli.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { llamaCppGreedy } from "../llamacpp.ts";
import { readDecoderConfig } from "../../core/model/config.ts";
import { Engine } from "../../core/model/engine.ts";
import { Prng } from "../../core/util/prng.ts";
import { loadLora } from "../../plugins/lora/load_lora.ts";
import { LoraAdapter } from "../../plugins/lora/lora_adapter.ts";

const BABYLLAMA = new URL("../../../shared/models/babyllama-105/", import.meta.url);
const cli = (...args: string[]) => runCli(args);

Deno.test("model export-gguf --adapter: the merged GGUF's greedy tokens in llama.cpp equal ours with the LoRA attached (babyllama-105, f32, 32 tokens)", async () => {
  try {
    await Deno.stat(new URL("config.json", BABYLLAMA));
  } catch {
    console.log(
      "skipped: ../shared/models/babyllama-105 is absent (the real checkpoint lives beside the checkout)",
    );
    return;
  }
  const base = BABYLLAMA.pathname;
  const root = await Deno.makeTempDir({ prefix: "dramatis_gguf_adapter_" });
  try {
    const config = await readDecoderConfig(base);
    const lora = LoraAdapter.forConfig(config, {
      r: 4,
      alpha: 8,
      targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
      seed: 1,
    });
    const rng = new Prng(9);
    for (const m of lora.modules()) {
      for (let i = 0; i < m.B.length; i++) m.B[i] = 0.1 * (rng.next() - 0.5);
    }
    const adapterDir = join(root, "adapter");
    await lora.save(adapterDir);

    const gguf = join(root, "merged.gguf");
    const r = await cli(
      "model",
      "export-gguf",
      base,
      "--out",
      gguf,
      "--adapter",
      adapterDir,
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).path, gguf);

    const lines = (await Deno.readTextFile(new URL("reference/prompt0.ids", BABYLLAMA))).split(
      "\n",
    );
    const prompt = lines[0].replace("PROMPT_IDS:", "").trim().split(/\s+/).map(Number);
    const plain = lines[1].replace("GEN_IDS:", "").trim().split(/\s+/).map(Number);
    const n = 32;
    const engine = await Engine.load(base, {
      cacheDir: join(root, "graphs"),
      threads: 1,
      adapters: [await loadLora(adapterDir, config)],
    });
    let ours: number[];
    try {
      const g = await engine.generate({ inputIds: [prompt] }, { maxNewTokens: n, eosTokenIds: [] });
      ours = g.completions[0].tokens;
    } finally {
      await engine.close();
    }
    // The adapter matters: without it the model says something else (llama2.c's oracle).
    assert.notDeepEqual(ours, plain.slice(0, n));
    const cpp = await llamaCppGreedy(gguf, prompt, n);
    assert.deepEqual(cpp, ours);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("model export-gguf --dtype q4_0 / q8_0 reach the command (its own --dtype, not the run flag)", async () => {
  const root = await Deno.makeTempDir({ prefix: "dramatis_gguf_dtype_" });
  try {
    const model = join(root, "tiny");
    assert.equal(
      (await cli("model", "new", model, "--preset", "tiny-llama", "--seed", "1")).code,
      0,
    );
    for (const dtype of ["q4_0", "q8_0"]) {
      const out = join(root, `${dtype}.gguf`);
      const r = await cli("model", "export-gguf", model, "--out", out, "--dtype", dtype, "--json");
      assert.equal(r.code, 0, r.stderr);
      assert.ok((await Deno.stat(out)).size > 0);
    }
    const bad = await cli(
      "model",
      "export-gguf",
      model,
      "--out",
      join(root, "x.gguf"),
      "--dtype",
      "int4",
    );
    assert.equal(bad.code, 2, bad.stderr);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
