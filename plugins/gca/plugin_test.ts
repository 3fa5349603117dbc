import assert from "node:assert/strict";
import { pluginContext } from "../../core/services/plugin_context.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ScriptedChatModel } from "../../core/chat/testing/mod.ts";
import type { ChatRequest } from "../../core/contracts/chat_model.ts";
import { main } from "../../main.ts";
import { startServer } from "../../core/host/server/serve.ts";
import { DIMENSIONS } from "./judge_prompt.ts";
import { gca, toJudgeInput } from "./plugin.ts";
import { GcaPluginOptionsSchema } from "./plugin_options.ts";
import { simulationsOf } from "./simulate_records.ts";
import { storyTitle } from "./commands/build_dataset_command.ts";

const RECORDS = fileURLToPath(new URL("./data/test_records.json", import.meta.url));

Deno.test("gca() is a plugin with a simulator, a judge and six commands", async () => {
  const plugin = gca();
  assert.equal(plugin.name, "gca");
  assert.deepEqual(plugin.provides, ["simulator", "judge"]);
  assert.deepEqual(plugin.commands!.map((c) => c.name), [
    "simulate",
    "judge",
    "build-dataset",
    "transform",
    "chat",
    "persona",
  ]);
  const options = GcaPluginOptionsSchema.parse({ maxRounds: 3 });
  assert.equal(options.cache, ".cache/gca.sqlite");
  assert.equal(options.judgeModelPin, "gpt-4o-2024-08-06");
  const roles = await plugin.create(options, pluginContext("gca"));
  assert.deepEqual(Object.keys(roles.simulators!), ["gca"]);
  assert.deepEqual(Object.keys(roles.judges!), ["gca"]);
  assert.throws(() => GcaPluginOptionsSchema.parse({ maxRound: 3 }), /maxRound/);
  // every flag documents itself
  for (const c of plugin.commands!) {
    for (const [name, f] of Object.entries(c.flags ?? {})) assert.ok(f.description, name);
  }
});

Deno.test("toJudgeInput() accepts a simulation record and rejects other shapes", () => {
  const input = toJudgeInput({
    circumstance: { x: 1 },
    simulation: [{ role: "A", content: "hi" }],
    involved_character_profiles: { A: "p" },
    options: { continueFrom: 2 },
  });
  assert.deepEqual(input, {
    record: { x: 1 },
    simulation: [{ role: "A", content: "hi" }],
    profiles: { A: "p" },
    continueFrom: 2,
  });
  assert.throws(() => toJudgeInput({ text: "x" }), /neither a gca transcript/);
});

Deno.test("storyTitle() takes a short first line, title-cased from capitals, else the file stem", () => {
  assert.equal(storyTitle("a/story.txt", "THE SALT ROAD\n\nChapter 1"), "The Salt Road");
  assert.equal(storyTitle("a/story.txt", "It was a dark night.\nMore."), "story");
  assert.equal(storyTitle("a/story.txt", "x", "Given"), "Given");
});

/** A scripted server: actors act, the environment narrates, the NSP names, the critic finds flaws. */
function scriptedReply(request: ChatRequest): string {
  const sys = request.messages[0]?.content ?? "";
  const rf = request.response_format;
  if (rf?.type === "json_schema") {
    const dimension = Object.keys(rf.json_schema.schema.properties as object)[0];
    return JSON.stringify({
      [dimension]: { flaws: [{ instance: "flat", type: "Emotional Depth", severity: 2 }] },
    });
  }
  if (/next speaker|acts next/i.test(sys)) {
    return "1. Reasoning: the scene.\n2. Next Speaker: Environment";
  }
  if (/role-playing game/.test(sys)) return "Rain hammers the glass.";
  return "[I must stay calm.] (folds her arms) We should talk.";
}

Deno.test("gca simulate and judge run from the command line; a rerun is served from the cache", async () => {
  const dir = await Deno.makeTempDir();
  const backend = new ScriptedChatModel({ reply: scriptedReply });
  let calls = 0;
  const counting = {
    id: backend.id,
    chat: (r: ChatRequest) => (calls++, backend.chat(r)),
    stream: (r: ChatRequest) => backend.stream(r),
  };
  const server = startServer({ port: 0, resolve: () => counting, listModels: () => [{ id: "s" }] });
  const url = `${server.url}/v1#s`;
  const cache = join(dir, "c.sqlite");
  const simulate = () =>
    main([
      "gca",
      "simulate",
      "--records",
      RECORDS,
      "--actor",
      url,
      "--env",
      url,
      "--nsp",
      url,
      "--max-rounds",
      "6",
      "--cache",
      cache,
      "--out",
      join(dir, "sims.json"),
      "--json",
    ]);
  try {
    assert.equal(await simulate(), 0);
    const sims = JSON.parse(await Deno.readTextFile(join(dir, "sims.json")));
    assert.equal(sims.simulations.length, 2);
    assert.equal(sims.options.maxRounds, 6);
    const made = calls;
    assert.ok(made > 0);
    assert.equal(await simulate(), 0);
    assert.equal(calls, made);
    const again = JSON.parse(await Deno.readTextFile(join(dir, "sims.json")));
    assert.equal(again.cache.misses, 0);

    assert.equal(
      await main([
        "gca",
        "judge",
        "--simulations",
        join(dir, "sims.json"),
        "--judge",
        url,
        "--cache",
        cache,
        "--out",
        join(dir, "eval.json"),
        "--json",
      ]),
      0,
    );
    const evaluation = JSON.parse(await Deno.readTextFile(join(dir, "eval.json")));
    assert.equal(evaluation.metadata.null_verdicts, 0);
    assert.equal(evaluation.metadata.comparable, false);
    assert.match(evaluation.metadata.judge_model, /^openai:s@/);
    for (const s of simulationsOf(sims)) {
      const turns = s.simulation.filter((e) => e.role !== "NSP" && e.role !== "Environment").length;
      // one severity-2 flaw per dimension: 100 − 5 · (2 − 0.3 · turns), clamped
      const expected = Math.min(100, 100 - 5 * (2 - 0.3 * turns));
      const c = evaluation.cases[s.id];
      assert.ok(Math.abs(c.score - expected) < 1e-9, `${c.score} vs ${expected}`);
      for (const d of DIMENSIONS) assert.ok(Math.abs(c.critique[d].score - expected) < 1e-9);
    }
    assert.ok(Math.abs(evaluation.scores.avg - evaluation.scores.Anthropomorphism) < 1e-9);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
