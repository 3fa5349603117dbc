import assert from "node:assert/strict";
import { join } from "node:path";
import { parseArgs } from "../args.ts";
import type { HostContext, HostVerb } from "../verb.ts";
import {
  echoFactory,
  resetToy,
  toyExperiment,
  toyRegistry,
  toyState,
} from "../../experiment/testing/toy_plugin.ts";
import { mergeVerb } from "./merge.ts";
import { createRunVerb, runVerb } from "./run.ts";

async function call(
  verb: HostVerb,
  argv: string[],
): Promise<{ status: number; out: unknown; logs: string[] }> {
  const args = parseArgs(argv, verb.flags ?? {}, `dramatis ${verb.name}`);
  const logs: string[] = [];
  const printed: string[] = [];
  const ctx: HostContext = {
    registry: toyRegistry(),
    pluginOptions: new Map(),
    json: args.flags.json === true,
    log: (m) => logs.push(m),
    signal: new AbortController().signal,
  };
  const original = console.log;
  console.log = (m: string) => printed.push(m);
  try {
    const status = await verb.run!(args, ctx);
    return { status: status ?? 0, out: ctx.json ? JSON.parse(printed.join("\n")) : printed, logs };
  } finally {
    console.log = original;
  }
}

Deno.test("run verb runs an experiment file, writes the report and resumes; merge verb merges shards", async () => {
  resetToy();
  const dir = await Deno.makeTempDir({ prefix: "run_verb_" });
  try {
    const file = join(dir, "exp.json");
    await Deno.writeTextFile(file, JSON.stringify(await toyExperiment(dir, 4)));
    const verb = createRunVerb({ modelFactory: echoFactory });
    const first = await call(verb, [file, "--out", join(dir, "run"), "--json"]);
    const out = first.out as { report: string; steps: { status: string }[]; run_dir: string };
    assert.equal(out.run_dir, join(dir, "run"));
    assert.equal(out.report, join(dir, "run", "report.html"));
    assert.ok((await Deno.readTextFile(out.report)).includes("<svg"));
    assert.ok(out.steps.every((s) => s.status === "ran"));
    assert.ok(first.logs.some((l) => l.startsWith("step sim (simulate toy.echo): 4 item(s)")));

    const second = await call(verb, [file, "--out", join(dir, "run")]);
    assert.deepEqual((second.out as string[]).slice(0, 1), ["toy-exp: 0 step(s) ran, 5 skipped"]);
    assert.ok((second.out as string[]).includes(`Report: ${join(dir, "run", "report.html")}`));

    for (const i of [0, 1]) {
      await call(verb, [file, "--out", join(dir, `s${i}`), "--shard", `${i}/2`, "--no-report"]);
    }
    await assert.rejects(Deno.stat(join(dir, "s0", "report.html")));
    const merged = await call(mergeVerb, [
      join(dir, "s0"),
      join(dir, "s1"),
      "--out",
      join(dir, "m"),
      "--json",
    ]);
    assert.equal((merged.out as { shards: number }).shards, 2);
    assert.equal(
      await Deno.readTextFile(join(dir, "m", "steps/score/output.jsonl")),
      await Deno.readTextFile(join(dir, "run", "steps/score/output.jsonl")),
    );
    assert.ok(await Deno.stat(join(dir, "m", "report.html")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run verb rejects a bad shard or a missing file before anything runs", async () => {
  resetToy();
  await assert.rejects(call(runVerb, []), /takes one experiment file/);
  await assert.rejects(call(runVerb, ["x.json", "--shard", "2/2"]), /--shard is '2\/2'/);
  await assert.rejects(call(runVerb, ["/nonexistent/exp.json"]), /cannot be read/);
  assert.deepEqual(toyState.calls, {});
});

Deno.test("run verb without a model factory fails clearly when a step needs a model", async () => {
  resetToy();
  const dir = await Deno.makeTempDir({ prefix: "run_verb_" });
  try {
    const file = join(dir, "exp.json");
    await Deno.writeTextFile(file, JSON.stringify(await toyExperiment(dir, 2)));
    await assert.rejects(
      call(runVerb, [file, "--out", join(dir, "run")]),
      (e: Error & { code?: string }) =>
        e.code === "E_NOT_AVAILABLE" && /no ChatModel factory/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
