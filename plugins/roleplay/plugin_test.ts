import assert from "node:assert/strict";
import { pluginContext } from "../../core/services/plugin_context.ts";
import { formatHelp } from "../../core/host/args.ts";
import { main } from "../../main.ts";
import { RUN_FLAGS } from "../../core/host/cli.ts";
import { ScriptedChatModel } from "../../core/chat/testing/mod.ts";
import { PLUGIN_NAME_RULE } from "../../core/contracts/plugin.ts";
import { PluginRegistry } from "../../core/plugin/registry.ts";
import { builtinPlugins } from "../mod.ts";
import { judgeConformance } from "../../tests/conformance/judge.ts";
import { simulatorConformance } from "../../tests/conformance/simulator.ts";
import { fixedPersonas } from "./persona.ts";
import plugin, { roleplay } from "./plugin.ts";

Deno.test("roleplay() is a valid plugin the registry accepts, with defaults that parse", async () => {
  const p = roleplay();
  assert.equal(p.name, "roleplay");
  assert.match(p.name, PLUGIN_NAME_RULE);
  assert.deepEqual([...p.provides], ["simulator", "judge"]);
  assert.equal(plugin.name, "roleplay");
  const registry = new PluginRegistry();
  registry.register(p, "test");
  const roles = await registry.instantiate("roleplay", { numTurns: 3 });
  assert.deepEqual(Object.keys(roles.simulators!), ["roleplay"]);
  assert.deepEqual(Object.keys(roles.judges!), ["indistinguishability"]);
  await assert.rejects(registry.instantiate("roleplay", { numTurns: 0 }));
  assert.deepEqual(p.commands!.map((c) => c.name), ["generate", "judge", "human-eval-set"]);
});

Deno.test("roleplay() options reach the simulator: numTurns caps the dialogue", async () => {
  const roles = await roleplay().create(
    roleplay().options.parse({ numTurns: 2 }),
    pluginContext("roleplay"),
  );
  const sim = roles.simulators!.roleplay;
  const models = {
    inquirer: new ScriptedChatModel({ reply: () => '"tea?"' }),
    responder: new ScriptedChatModel({ reply: () => "Green." }),
  };
  const t = await sim.simulate({ persona: fixedPersonas()[0], goal: "You want tea." }, {
    models,
    seed: 1,
  });
  assert.equal(t.metadata.end_reason, "max_turns");
  assert.equal(t.turns.length, 4);
  await assert.rejects(
    sim.simulate({ goal: "x" } as never, { models }),
    (e: Error) =>
      (e as { code?: string }).code === "E_DATA" && /pass \{persona, goal\}/.test(e.message),
  );
});

Deno.test("roleplay simulator passes the Simulator conformance suite", async (t) => {
  const roles = await roleplay().create(
    roleplay().options.parse({ numTurns: 3 }),
    pluginContext("roleplay"),
  );
  await simulatorConformance(t, {
    simulator: roles.simulators!.roleplay,
    input: { persona: fixedPersonas()[1], goal: "You want a flat hike." },
    models: {
      inquirer: new ScriptedChatModel({ reply: (r) => `"hike ${r.seed}?"` }),
      responder: new ScriptedChatModel({ reply: (r) => `answer ${r.messages.length}` }),
    },
  });
});

Deno.test("roleplay indistinguishability judge passes the Judge conformance suite", async (t) => {
  const roles = await roleplay().create(roleplay().options.parse({}), pluginContext("roleplay"));
  await judgeConformance(t, {
    judge: roles.judges!.indistinguishability,
    inputs: [{ dialog: [{ turn: 0, model_inquirer: "hikes?", model_responder: "Loire." }] }],
    unscorable: [{ dialog: [] }],
    context: {
      model: new ScriptedChatModel({
        reply: () => '{"rationale": "terse", "verdict": "human", "confidence": 0.6}',
      }),
    },
  });
});

const GENERATE_OPTIONS = [
  "inquirer",
  "responder",
  "goals",
  "personas",
  "persona-features",
  "samples",
  "turns",
  "seed",
  "out",
  "cache",
  "json",
];

Deno.test("roleplay generate --help documents every option", async () => {
  const generate = roleplay().commands!.find((c) => c.name === "generate")!;
  for (const [name, spec] of Object.entries(generate.flags!)) {
    assert.ok(spec.description.length > 10, `--${name} has a description`);
  }
  // Through the real CLI, whether or not the host lists the plugin yet.
  const listed = builtinPlugins.some((p) => p.name === "roleplay");
  const argv = ["roleplay", "generate", "--help"];
  if (!listed) argv.push("--plugin", new URL("./plugin.ts", import.meta.url).pathname);
  const printed: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => printed.push(a.join(" "));
  let status: number;
  try {
    status = await main(argv);
  } finally {
    console.log = log;
  }
  assert.equal(status, 0);
  const help = printed.join("\n");
  // The host adds the run settings (--provider, --threads, --dtype) the command does not declare.
  const extra = Object.entries(RUN_FLAGS).filter(([name]) => !(name in generate.flags!));
  const withRun = { ...generate, flags: { ...generate.flags, ...Object.fromEntries(extra) } };
  assert.equal(help, formatHelp("dramatis roleplay generate", withRun));
  for (const name of GENERATE_OPTIONS) {
    assert.match(help, new RegExp(`^  --${name}\\b.{10,}`, "m"), `--${name} is documented`);
  }
  for (const form of ["openai:<name>", "#<name>", "persona:<file.json>", "local model directory"]) {
    assert.ok(help.includes(form), `the <model> syntax mentions ${form}`);
  }
});

Deno.test("roleplay judge --help documents every option", () => {
  const judge = roleplay().commands!.find((c) => c.name === "judge")!;
  const help = formatHelp("dramatis roleplay judge", judge);
  for (const name of ["dialogs", "judge", "out", "cache", "seed", "json"]) {
    assert.match(help, new RegExp(`^  --${name}\\b.{10,}`, "m"));
  }
});
