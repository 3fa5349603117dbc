import assert from "node:assert/strict";
import { pluginContext } from "../../core/services/plugin_context.ts";
import { join } from "node:path";
import { createTinyModel } from "../../core/model/tiny.ts";
import { decoderHooks } from "../../core/model/decoder_graph.ts";
import { adapterConformance } from "../../tests/conformance/adapter.ts";
import { judgeConformance } from "../../tests/conformance/judge.ts";
import { trainerConformance } from "../../tests/conformance/trainer.ts";
import { IdentityAdapter } from "./adapter.ts";
import { hisConversations, hisDataFiles } from "./his_conversations.ts";
import { parseHisDataset } from "./his_dataset.ts";
import type { TrimmedRecord } from "../../core/train/chat_data.ts";
import { parseIdentityList } from "./commands/eval_commands.ts";
import { SCALE_VERDICT_FORMAT } from "./eval/prompts.ts";
import { identityGuessFormat } from "./eval/situational.ts";
import defaultPlugin, { hirpf } from "./plugin.ts";
import { ScriptedChatModel } from "./testing/scripted_chat_model.ts";
import { parseHirpfTrainConfig } from "./train_config.ts";

const DIALOGUES = new URL("./data/dialogues/", import.meta.url).pathname;

Deno.test("hirpf() declares its roles, options with A5 defaults, and four commands", async () => {
  const p = hirpf();
  assert.equal(p.name, "hirpf");
  assert.deepEqual([...p.provides], ["adapter", "trainer", "judge"]);
  const o = p.options.parse({});
  assert.deepEqual(
    [o.insert_mode, o.sparse, o.train_gates, o.mask_mode, o.r, o.alpha, o.dropout, o.lr],
    ["alternate", true, true, "exclude", 16, 16, 0.05, 1e-4],
  );
  assert.deepEqual(p.commands!.map((c) => c.name), [
    "scale",
    "profession",
    "situations",
    "human-eval-set",
  ]);
  const roles = await p.create(o, pluginContext("hirpf"));
  assert.deepEqual(Object.keys(roles.adapters!), ["hirpf"]);
  assert.deepEqual(Object.keys(roles.trainers!), ["hirpf"]);
  assert.deepEqual(Object.keys(roles.judges!), ["hirpf_scale", "hirpf_identity"]);
  assert.equal(defaultPlugin.name, "hirpf");
});

Deno.test("parseHirpfTrainConfig() layers the config over the plugin options and names bad fields", () => {
  const c = parseHirpfTrainConfig({ steps: 5 }, { r: 4, insert_mode: "flat" });
  assert.deepEqual([c.r, c.insert_mode, c.steps, c.warmup_steps, c.batch_size], [
    4,
    "flat",
    5,
    100,
    64,
  ]);
  assert.equal(parseHirpfTrainConfig({ r: 8 }, { r: 4 }).r, 8);
  assert.throws(() => parseHirpfTrainConfig({ step: 5 }), /field "step" is 5: unknown field/);
  assert.throws(
    () => parseHirpfTrainConfig({ batch_size: 6, micro_batch_size: 4 }),
    /batch_size 6 is not a multiple of micro_batch_size 4/,
  );
  assert.throws(() => parseHirpfTrainConfig({ insert_mode: "stacked" }), /insert_mode/);
});

Deno.test("hisConversations() builds the system turn, keeps canonical identities and drops an unpaired user turn", () => {
  const recs = parseHisDataset([{
    dialog: [
      { role: "user", content: " Hi " },
      { role: "assistant", content: "Hello!" },
      { role: "user", content: "Still there?" },
    ],
    active_adapters: ["EMS_low", "Doctor"],
  }]);
  const trimmed: TrimmedRecord[] = [];
  const [c] = hisConversations(recs, { source: "x.json" }, trimmed);
  assert.deepEqual(trimmed, [{ source: { file: "x.json", line: 1, record: 0 }, turns: 1 }]);
  assert.deepEqual(c.identities, ["NEU_high", "Doctor"]);
  assert.deepEqual(c.messages.map((m) => m.role), ["system", "user", "assistant"]);
  assert.match(c.messages[0].content, /^You are a doctor with low emotional stability/);
  assert.equal(c.messages[1].content, "Hi");
  assert.deepEqual(c.source, { file: "x.json", line: 1, record: 0 });
  const [n] = hisConversations(recs, { systemPrompt: false });
  assert.deepEqual(n.messages.map((m) => m.role), ["user", "assistant"]);
});

Deno.test("hisDataFiles() finds train.json and test.json and names a folder without them", async () => {
  const f = await hisDataFiles(DIALOGUES);
  assert.ok(f.train.endsWith("train.json") && f.test?.endsWith("test.json"));
  const empty = await Deno.makeTempDir();
  try {
    await assert.rejects(hisDataFiles(empty), /has no train\.json/);
    await assert.rejects(hisDataFiles(join(empty, "nope")), /does not exist/);
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test("parseIdentityList() splits, drops 'none' and sanitizes", () => {
  assert.deepEqual(parseIdentityList("EXT_high, Doctor,EXT_low Artist"), ["EXT_high", "Doctor"]);
  assert.deepEqual(parseIdentityList("none"), []);
  assert.deepEqual(parseIdentityList("EMS_high"), ["NEU_low"]);
});

Deno.test("judge formats: scale verdict enumerates A..E; identity guess lists every slot", () => {
  assert.deepEqual(SCALE_VERDICT_FORMAT.json_schema.schema.properties.option.enum, [
    "A",
    "B",
    "C",
    "D",
    "E",
  ]);
  const f = identityGuessFormat(["Doctor"]);
  assert.deepEqual(f.json_schema.schema.required, [
    "AGR",
    "CON",
    "EXT",
    "NEU",
    "OPE",
    "Profession",
  ]);
  assert.deepEqual(
    (f.json_schema.schema.properties as Record<string, { enum: unknown[] }>).Profession.enum,
    ["Doctor", null],
  );
});

Deno.test("hirpf judges conform (scripted judge model)", async (t) => {
  const roles = await hirpf().create(hirpf().options.parse({}), pluginContext("hirpf"));
  const model = new ScriptedChatModel((req) =>
    req.messages[0].content.includes("Scenario:")
      ? '{"AGR": null, "CON": null, "EXT": "high", "NEU": null, "OPE": null, "Profession": "Doctor"}'
      : req.messages[0].content.includes("never")
      ? "no idea"
      : '{"option": "D", "desc": "likes crowds"}'
  );
  const transcript = [
    { speaker: "interviewer" as const, text: "Are you the life of the party?" },
    { speaker: "agent" as const, text: "Always!" },
  ];
  await judgeConformance(t, {
    judge: roles.judges!.hirpf_scale,
    inputs: [{ transcript, statement: "I am the life of the party" }],
    unscorable: [{ transcript, statement: "I never answer" }],
    context: { model, seed: 1 },
  });
  await judgeConformance(t, {
    judge: roles.judges!.hirpf_identity,
    inputs: [{ scenario: "At a party.", transcript }],
    unscorable: [{ scenario: 3, transcript }],
    context: { model, seed: 1 },
  });
  const v = await roles.judges!.hirpf_scale.judge(
    { transcript, statement: "I am the life of the party" },
    { model, seed: 1 },
  );
  assert.deepEqual(v.value, { option: "D", votes: ["D", "D", "D", "D", "D"] });
  const last = model.calls.at(-1)!;
  assert.equal(last.response_format?.type, "json_schema");
});

Deno.test("the hirpf adapter factory makes fresh adapters and loads checkpoints; both conform", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "hirpf_plugin_" });
  try {
    const model = join(dir, "model");
    const { config } = await createTinyModel(model, { preset: "tiny-llama", seed: 2 });
    const roles = await hirpf().create(hirpf().options.parse({ r: 4 }), pluginContext("hirpf"));
    const fresh = await roles.adapters!.hirpf({ model, insert_mode: "flat", seed: 3 });
    assert.ok(fresh instanceof IdentityAdapter);
    assert.deepEqual([fresh.config.r, fresh.config.insertMode], [4, "flat"]);
    await adapterConformance(t, {
      adapter: fresh,
      hooks: decoderHooks(config),
      identities: [["EXT_high", "Doctor"], []],
    });
    await fresh.save(join(dir, "ckpt"));
    const loaded = await roles.adapters!.hirpf({ model, path: join(dir, "ckpt") });
    assert.deepEqual(
      (loaded as IdentityAdapter).checkpointTensors(),
      fresh.checkpointTensors(),
    );
    // The inference path needs only batchSize and identities (no sequenceLength or seed).
    const feeds = loaded.runtimeInputs!({
      batchSize: 1,
      extensions: { identities: [["EMS_high"]] },
    });
    assert.deepEqual(Object.keys(feeds), ["hirpf.mask.g0"]);
    await assert.rejects(
      Promise.resolve().then(() => roles.adapters!.hirpf({ model, r: 0 })),
      /hirpf adapter config field "r"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the hirpf trainer conforms and resumes from its checkpoint", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "hirpf_trainer_" });
  try {
    const model = join(dir, "model");
    await createTinyModel(model, { preset: "tiny-llama", seed: 2, maxPositionEmbeddings: 1024 });
    const roles = await hirpf().create(
      hirpf().options.parse({ progress: false, runner: "in-process" }),
      pluginContext("hirpf"),
    );
    const trainer = roles.trainers!.hirpf;
    const config = {
      steps: 2,
      r: 2,
      warmup_steps: 0,
      lr: 1e-3,
      batch_size: 2,
      micro_batch_size: 2,
      max_eval_examples: 2,
      system_prompt: false,
    };
    await trainerConformance(t, { trainer, request: { model, data: DIALOGUES, out: "", config } });
    // Resume: stopped after step 1, then run again in the same folder, equals 2 steps at once.
    const once = join(dir, "once");
    const twice = join(dir, "twice");
    await trainer.train({ model, data: DIALOGUES, out: once, config });
    const stop = new AbortController();
    await assert.rejects(
      trainer.train({
        model,
        data: DIALOGUES,
        out: twice,
        config: { ...config, save_every: 1 },
        signal: stop.signal,
        onEvent: (e) => {
          if (e.type === "step" && e.step === 1) stop.abort();
        },
      }),
      /training stopped/,
    );
    const resumed = await trainer.train({
      model,
      data: DIALOGUES,
      out: twice,
      config: { ...config, save_every: 1 },
    });
    assert.equal(resumed.steps, 2);
    const a = await IdentityAdapter.load(once);
    const b = await IdentityAdapter.load(twice);
    assert.deepEqual(a.checkpointTensors(), b.checkpointTensors());
    const copy = await IdentityAdapter.load(join(twice, "checkpoints", "step-000001", "adapter"));
    assert.equal(copy.config.r, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
