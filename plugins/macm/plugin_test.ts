import assert from "node:assert/strict";
import { pluginContext } from "../../core/services/plugin_context.ts";
import { ScriptedChatModel } from "../../core/chat/testing/mod.ts";
import { PersonaSchema } from "../../core/contracts/persona.ts";
import { PluginRegistry } from "../../core/plugin/registry.ts";
import { ModelHub } from "../../core/services/model_hub.ts";
import { judgeConformance, simulatorConformance } from "../../tests/conformance/mod.ts";
import { TRIALS } from "./bandwagon.ts";
import { loadCharacterDir, shippedCharacterDir } from "./character_dir.ts";
import { macm } from "./plugin.ts";
import type { MacmSimulationInput } from "./simulator.ts";

Deno.test("macm() registers, lists its roles and commands, and validates options", async () => {
  const registry = new PluginRegistry();
  const plugin = registry.register(macm());
  assert.equal(plugin.name, "macm");
  assert.deepEqual(plugin.provides, ["simulator", "judge"]);
  assert.deepEqual(plugin.commands!.map((c) => c.name), [
    "new-character",
    "import",
    "biography",
    "life-story",
    "build-memory",
    "add-memory",
    "ask",
    "questionnaire",
    "jung-test",
    "bandwagon",
  ]);
  const roles = await registry.instantiate("macm", { method: "prompt" });
  assert.deepEqual(Object.keys(roles.simulators!), ["macm"]);
  assert.deepEqual(Object.keys(roles.judges!), ["questionnaire", "jung_test", "bandwagon"]);
  assert.deepEqual(Object.keys(roles.backends!), ["macm"]);
  await assert.rejects(registry.instantiate("macm", { method: "telepathy" }), /method/);
});

Deno.test("macm judges pass the judge conformance suite", async (t) => {
  const roles = await macm().create(macm().options.parse({}), pluginContext("macm"));
  const item = {
    type: "Single_choice" as const,
    question: "Q?",
    options: ["A. a", "B. b", "C. c", "D. d"],
    answer: ["B"],
  };
  await judgeConformance(t, {
    judge: roles.judges!.questionnaire,
    inputs: [{ item, reply: "The answer is B." }],
    unscorable: [{ item, reply: "no idea" }],
  });
  await judgeConformance(t, {
    judge: roles.judges!.bandwagon,
    inputs: [{ group_pressure: TRIALS.map((x) => `${x[5]}`), control: TRIALS.map(() => "2") }],
    unscorable: [{ group_pressure: TRIALS.map(() => "?"), control: TRIALS.map(() => "?") }],
  });
});

Deno.test("macm simulator passes the simulator conformance suite", async (t) => {
  const roles = await macm().create(
    macm().options.parse({ method: "prompt" }),
    pluginContext("macm"),
  );
  const character = await loadCharacterDir(shippedCharacterDir());
  await simulatorConformance<MacmSimulationInput>(t, {
    simulator: roles.simulators!.macm as never,
    input: { character, queries: ["Hello!", "What do you do?"] },
    models: { simulacrum: new ScriptedChatModel(), agent: new ScriptedChatModel() },
  });
});

Deno.test("the model hub's personaBackend() builds the macm backend for a persona that names it", async () => {
  const registry = new PluginRegistry();
  registry.register(macm());
  const persona = PersonaSchema.parse({
    name: "hazel",
    model: "openai:none",
    backend: { plugin: "macm", options: { method: "prompt" } },
  });
  const key = Deno.env.get("OPENAI_API_KEY");
  Deno.env.set("OPENAI_API_KEY", key ?? "unused"); // the base model is built, never called
  try {
    const model = await new ModelHub({ registry }).personaBackend(persona);
    assert.match(model.id, /^macm:prompt:.*hazel_okafor@openai:none/);
  } finally {
    if (key === undefined) Deno.env.delete("OPENAI_API_KEY");
  }
});
