import { ModelHub } from "../../services/model_hub.ts";
import { errorCode } from "../../errors.ts";
import { createTinyModel } from "../../model/tiny.ts";
import { hasCudaProvider } from "../../runtime/providers.ts";
import { RUN_FLAGS } from "../cli.ts";
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
    models: new ModelHub(),
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

Deno.test("run verb builds models with the context's model hub (a missing model fails clearly)", async () => {
  resetToy();
  const dir = await Deno.makeTempDir({ prefix: "run_verb_" });
  try {
    const file = join(dir, "exp.json");
    await Deno.writeTextFile(file, JSON.stringify(await toyExperiment(dir, 2)));
    await assert.rejects(
      call(runVerb, [file, "--out", join(dir, "run")]),
      (e: Error & { code?: string }) => /tiny-model/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run --provider reaches the experiment's local models: cuda on a machine without it is E_PROVIDER", async () => {
  if (hasCudaProvider()) return; // the point is the refusal where the provider is missing
  resetToy();
  const dir = await Deno.makeTempDir({ prefix: "run_verb_" });
  const hub = new ModelHub({ cacheDir: join(dir, "g") });
  try {
    await createTinyModel(join(dir, "tiny-model"), { preset: "tiny-llama", seed: 1 });
    const file = join(dir, "exp.json");
    await Deno.writeTextFile(file, JSON.stringify(await toyExperiment(dir, 2)));
    const argv = [file, "--out", join(dir, "run"), "--provider", "cuda", "--threads", "1"];
    const verb = createRunVerb();
    const args = parseArgs(argv, { ...verb.flags, ...RUN_FLAGS }, "dramatis run");
    const models = hub.with({ provider: args.flags.provider as "cuda", threads: 1 });
    await assert.rejects(
      Promise.resolve(verb.run!(args, {
        registry: toyRegistry(),
        pluginOptions: new Map(),
        models,
        json: true,
        log: () => {},
        signal: new AbortController().signal,
      })),
      (e: Error) => errorCode(e) === "E_PROVIDER" && /cuda/.test(e.message),
    );
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});
