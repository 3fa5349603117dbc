/**
 * hirpf end to end on tiny-llama: train identity experts on the shipped HIS dialogues, measure
 * that two opposite identities move the model apart on held-out replies, generate under each
 * identity through our OpenAI-compatible server (the `identities` extra, official `openai`
 * client), and run the BF-marker scale command with a local, constrained judge.
 *
 * What is needed for a measurable difference: a random tiny model has loss ≈ 12.8 on the
 * dialogues, where LoRA on attention alone hardly shapes the output, so the base (hidden 128,
 * 4 blocks, so that alternate mode has two trait blocks) is first trained briefly on every
 * parameter (lora trainer, `trainable: "all"`, 30 steps) on the training dialogues *without*
 * identity information — it learns the dialogues' words but not which identity says what. The
 * experts (40 steps) are trained without the identity system prompt, so that any difference
 * between identities comes from the masks alone.
 *
 * Metric: the log-likelihood ratio of held-out references. R_hi / R_lo are the test dialogues
 * labelled only EXT_high / only EXT_low (held-out topics). With NLL(R | I) the mean negative
 * log-likelihood per assistant token of R under identity set I,
 *   LLR(I1, I2) = [NLL(R_hi | I2) − NLL(R_hi | I1)] + [NLL(R_lo | I1) − NLL(R_lo | I2)].
 * Controls: LLR(EXT_high, EXT_high) — two identical identity sets — is 0 by construction (the
 * metric has no bias), and a placebo LLR(OPE_high, OPE_low) on the same EXT references (two
 * other, opposite experts) measures how much any pair of different experts separates these
 * replies. The threshold: LLR(EXT_high, EXT_low) > 0.2 nats/token and > 2 × |placebo|.
 * Measured when this test was written: LLR ≈ 1.3, placebo well below it (see the log line).
 */

import { sharedTestCache } from "../test_cache.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import OpenAI from "openai";
import { LocalChatModel } from "../../core/chat/local_chat_model.ts";
import type { PluginCommand } from "../../core/contracts/plugin.ts";
import { parseArgs } from "../../core/host/args.ts";
import { ModelHub } from "../../core/services/model_hub.ts";
import { pluginContext } from "../../core/services/plugin_context.ts";
import { startServer } from "../../core/host/server/serve.ts";
import { readDecoderConfig } from "../../core/model/config.ts";
import { Engine } from "../../core/model/engine.ts";
import { createTinyModel } from "../../core/model/tiny.ts";
import { IdentityAdapter } from "../../plugins/hirpf/adapter.ts";
import { loadHisConversations } from "../../plugins/hirpf/his_conversations.ts";
import { hirpf } from "../../plugins/hirpf/plugin.ts";
import { hirpfLosses } from "../../plugins/hirpf/trainer.ts";
import { createLoraTrainer } from "../../plugins/lora/trainer.ts";

/** Builds the models the commands open (closed at the end of the test). */
const hub = new ModelHub();

const DIALOGUES = new URL("../../plugins/hirpf/data/dialogues/", import.meta.url).pathname;

async function command(name: string, argv: string[]): Promise<Record<string, unknown>> {
  const cmd = hirpf().commands!.find((c) => c.name === name) as PluginCommand;
  const args = parseArgs([...argv, "--json"], cmd.flags ?? {}, `hirpf ${name}`);
  const printed: string[] = [];
  const log = console.log;
  console.log = (...xs: unknown[]) => printed.push(xs.join(" "));
  try {
    const status = await cmd.run(args, {
      json: true,
      log: () => {},
      signal: new AbortController().signal,
      models: hub,
    });
    assert.equal(status ?? 0, 0, `${name} exit status`);
  } finally {
    console.log = log;
  }
  return JSON.parse(printed.join("\n"));
}

Deno.test("hirpf end to end on tiny-llama: train experts, opposite identities differ, served generation, scale with a local judge", async () => {
  const root = await Deno.makeTempDir({ prefix: "hirpf_e2e_" });
  sharedTestCache();
  let server: ReturnType<typeof startServer> | undefined;
  let engine: Engine | undefined;
  try {
    // 1. A tiny base that speaks the dialogues' words (no identity information).
    const random = join(root, "random");
    await createTinyModel(random, {
      preset: "tiny-llama",
      seed: 1,
      hiddenSize: 128,
      numLayers: 4,
      intermediateSize: 256,
      maxPositionEmbeddings: 1024,
    });
    const train = await loadHisConversations(join(DIALOGUES, "train.json"), {
      systemPrompt: false,
    });
    const plain = join(root, "plain.jsonl");
    await Deno.writeTextFile(
      plain,
      train.map((c) => JSON.stringify({ messages: c.messages })).join("\n") + "\n",
    );
    const base = join(root, "base");
    await createLoraTrainer({ progress: false, runner: "in-process" }).train({
      model: random,
      data: plain,
      out: base,
      config: {
        trainable: "all",
        steps: 30,
        learning_rate: 3e-3,
        warmup_steps: 2,
        batch_size: 16,
        eval_split: 0,
      },
    });

    // 2. Identity experts through the plugin's trainer (A5 defaults except the short-run knobs).
    const roles = await hirpf().create(
      hirpf().options.parse({ progress: false, runner: "in-process" }),
      pluginContext("hirpf"),
    );
    const experts = join(root, "experts");
    const result = await roles.trainers!.hirpf.train({
      model: base,
      data: DIALOGUES,
      out: experts,
      config: {
        steps: 40,
        r: 8,
        dropout: 0,
        lr: 3e-3,
        warmup_steps: 4,
        batch_size: 8,
        micro_batch_size: 8,
        system_prompt: false,
        max_eval_examples: 8,
      },
    });
    assert.equal(result.steps, 40);
    assert.ok(result.metrics.eval_loss < result.metrics.initial_eval_loss, "eval loss fell");
    for (const f of ["hirpf_config.json", "hirpf_model.safetensors", "metrics.jsonl"]) {
      await Deno.stat(join(experts, f));
    }
    const adapter = await roles.adapters!.hirpf({ model: base, path: experts });
    assert.ok(adapter instanceof IdentityAdapter);
    assert.equal(adapter.config.maskMode, "exclude");
    assert.equal(adapter.config.insertMode, "alternate");

    // 3. The metric: log-likelihood ratio of held-out references under opposite identities.
    const test = await loadHisConversations(join(DIALOGUES, "test.json"), { systemPrompt: false });
    const only = (id: string) =>
      test.filter((c) => c.identities!.length === 1 && c.identities![0] === id);
    const hi = only("EXT_high");
    const lo = only("EXT_low");
    assert.ok(hi.length >= 2 && lo.length >= 2, "held-out references exist");
    const sets = [["EXT_high"], ["EXT_low"], ["OPE_high"], ["OPE_low"]];
    const nll = await hirpfLosses({
      model: base,
      adapter: adapter as IdentityAdapter,
      conditions: [hi, lo].flatMap((refs) =>
        sets.map((identities) => ({ conversations: refs, identities }))
      ),
    });
    const at = (refs: number, set: number) => nll[refs * sets.length + set].loss;
    const llr = (a: number, b: number) => (at(0, b) - at(0, a)) + (at(1, a) - at(1, b));
    const ext = llr(0, 1);
    const same = llr(0, 0);
    const placebo = llr(2, 3);
    console.log(
      `hirpf e2e: LLR(EXT_high, EXT_low) = ${ext.toFixed(3)} nats/token; identical sets ${same}; ` +
        `placebo LLR(OPE_high, OPE_low) = ${placebo.toFixed(3)}`,
    );
    assert.equal(same, 0);
    assert.ok(at(0, 0) < at(0, 1), "EXT_high references are likelier under EXT_high");
    assert.ok(at(1, 1) < at(1, 0), "EXT_low references are likelier under EXT_low");
    assert.ok(ext > 0.2, `LLR ${ext} is not above 0.2`);
    assert.ok(ext > 2 * Math.abs(placebo), `LLR ${ext} is not above twice the placebo ${placebo}`);

    // 4. Generation per request identity through our server and the openai client.
    const config = await readDecoderConfig(base);
    const served = await IdentityAdapter.load(experts, { model: config });
    engine = await Engine.load(base, { adapters: [served], threads: 1 });
    const chat = new LocalChatModel(engine, { id: "his" });
    server = startServer({
      port: 0,
      resolve: (name) => (name === "his" ? chat : undefined),
      listModels: () => [{ id: "his" }],
      // The plugin declares the `identities` request extension the server then accepts.
      plugins: [hirpf()],
    });
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "none", maxRetries: 0 });
    const prompts = test.filter((c) => c.identities!.length === 1).slice(0, 4)
      .map((c) => c.messages.find((m) => m.role === "user")!.content);
    let differ = 0;
    for (const prompt of prompts) {
      const ask = async (identities: string[]) => {
        const body = {
          model: "his",
          messages: [{ role: "user" as const, content: prompt }],
          max_tokens: 16,
          temperature: 0,
          identities,
        };
        const r = await client.chat.completions.create(
          body as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming,
        );
        return r.choices[0].message.content ?? "";
      };
      if ((await ask(["EXT_high"])) !== (await ask(["EXT_low"]))) differ++;
    }
    assert.ok(differ >= prompts.length - 1, `only ${differ} of ${prompts.length} replies differ`);

    // 5. The BF-marker scale command: interviewer follow-ups and 5 votes by a local judge.
    const argv = [
      "--model",
      base,
      "--adapter",
      experts,
      "--identities",
      "EXT_high",
      "--judge",
      base,
      "--items",
      "1",
      "--max-tokens",
      "12",
      "--threads",
      "1",
      "--cache",
      join(root, "hirpf.sqlite"),
      "--out",
      join(root, "scale.json"),
    ];
    const first = await command("scale", argv);
    assert.equal(first.items, 1);
    assert.equal(first.judge_failures, 0, "constrained decoding gives parseable votes");
    const full = JSON.parse(await Deno.readTextFile(join(root, "scale.json")));
    assert.equal(full.items[0].votes.length, 5);
    assert.equal(
      full.items[0].transcript.filter((l: { speaker: string }) => l.speaker === "agent").length,
      3,
    );
    const mean = (first.factors as Record<string, { mean: number }>).EXT.mean;
    assert.ok(mean >= 1 && mean <= 5);
    const again = await command("scale", argv);
    assert.deepEqual(again.factors, first.factors);
    assert.equal(
      (again.cache as { misses: number }).misses,
      0,
      "the rerun is answered by the cache",
    );
  } finally {
    await server?.shutdown();
    await engine?.close();
    await hub.close();
    await Deno.remove(root, { recursive: true });
  }
});
