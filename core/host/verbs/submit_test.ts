import { ModelHub } from "../../services/model_hub.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Job } from "kubernetes-models/batch/v1/Job";
import { parse as parseYaml } from "yaml";
import { parseArgs } from "../args.ts";
import type { HostContext } from "../verb.ts";
import { toyExperiment, toyRegistry } from "../../experiment/testing/toy_plugin.ts";
import { dramatisCommand, makeJobPlan, parseTaskList } from "../submit/job_plan.ts";
import { slurmScripts, submitSlurm } from "../submit/slurm_job.ts";
import { hubModelIds, submitVerb } from "./submit.ts";

async function call(argv: string[]): Promise<{ out: unknown; printed: string[] }> {
  const args = parseArgs(argv, submitVerb.flags ?? {}, "dramatis submit");
  const printed: string[] = [];
  const ctx: HostContext = {
    registry: toyRegistry(),
    pluginOptions: new Map([["toy", { scale: 3 }]]),
    models: new ModelHub(),
    json: args.flags.json === true,
    log: () => {},
    signal: new AbortController().signal,
  };
  const original = console.log;
  console.log = (m: string) => printed.push(m);
  try {
    await submitVerb.run!(args, ctx);
  } finally {
    console.log = original;
  }
  return { out: ctx.json ? JSON.parse(printed.join("\n")) : undefined, printed };
}

/** A stand-in for deno that prints the argv it was given, one JSON document. */
async function argvPrinter(dir: string): Promise<string> {
  const path = join(dir, "print-argv");
  await Deno.writeTextFile(
    path,
    '#!/bin/bash\nprintf \'%s\\0\' "$@" > "$ARGV_OUT"\n',
  );
  await Deno.chmod(path, 0o755);
  return path;
}

async function runScript(
  script: string,
  env: Record<string, string>,
  out: string,
): Promise<string[]> {
  const r = await new Deno.Command("bash", { args: [script], env: { ...env, ARGV_OUT: out } })
    .output();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
  return (await Deno.readTextFile(out)).split("\0").slice(0, -1);
}

Deno.test("submit --slurm --dry-run writes an array script and a merge script that run the right commands", async () => {
  const dir = await Deno.makeTempDir({ prefix: "submit_slurm_" });
  try {
    // a quote and a space in the experiment's folder: the scripts must quote them
    const expDir = join(dir, "it's data");
    await Deno.mkdir(expDir);
    const file = join(expDir, "exp.json");
    await Deno.writeTextFile(file, JSON.stringify(await toyExperiment(expDir, 5)));
    const deno = await argvPrinter(dir);
    const out = join(dir, "runs", "toy");
    const { out: json } = await call([
      file,
      "--slurm",
      "--shards",
      "3",
      "--out",
      out,
      "--partition",
      "gpu",
      "--time",
      "01:30:00",
      "--sbatch=--account=lab",
      "--deno",
      deno,
      "--dry-run",
      "--json",
      "--",
      "--mem=8G",
    ]) as { out: Record<string, unknown> };
    const j = json as {
      dry_run: boolean;
      tasks: number[];
      shards_dir: string;
      scripts: { array: { path: string; text: string }; merge: { path: string; text: string } };
      commands: string[];
    };
    assert.equal(j.dry_run, true);
    assert.deepEqual(j.tasks, [0, 1, 2]);
    assert.equal(j.shards_dir, `${out}.shards`);
    const array = j.scripts.array.text;
    for (
      const line of [
        "#SBATCH --array=0-2",
        "#SBATCH --job-name=dramatis-toy-exp",
        `#SBATCH --output=${out}.shards/logs/shard-%a.job-%A.out`,
        `#SBATCH --chdir=${Deno.cwd()}`,
        "#SBATCH --partition=gpu",
        "#SBATCH --time=01:30:00",
        "#SBATCH --account=lab",
        "#SBATCH --mem=8G",
      ]
    ) assert.ok(array.split("\n").includes(line), `${line} in\n${array}`);
    assert.ok(j.scripts.merge.text.includes("#SBATCH --job-name=dramatis-toy-exp-merge"));
    assert.ok(!j.scripts.merge.text.includes("--array"));
    assert.deepEqual(j.commands, [
      `sbatch --parsable ${out}.shards/slurm/shards.sbatch`,
      `sbatch --parsable '--dependency=afterok:<array job id>' --kill-on-invalid-dep=yes ${out}.shards/slurm/merge.sbatch`,
    ]);
    // dry run: nothing written
    assert.equal(await Deno.stat(`${out}.shards`).then(() => true, () => false), false);

    // bash reads the scripts back into exactly the intended argv
    await Deno.mkdir(join(dir, "s"));
    await Deno.writeTextFile(join(dir, "s/array.sh"), array);
    await Deno.writeTextFile(join(dir, "s/merge.sh"), j.scripts.merge.text);
    const prefix = dramatisCommand(deno).slice(1);
    const plugin = ["--plugin-options", 'toy={"scale":3}'];
    assert.deepEqual(
      await runScript(join(dir, "s/array.sh"), { SLURM_ARRAY_TASK_ID: "1" }, join(dir, "a.out")),
      [
        ...prefix,
        ...plugin,
        "run",
        file,
        "--shard",
        "auto/3",
        "--shards-dir",
        `${out}.shards`,
        "--no-report",
      ],
    );
    assert.deepEqual(await runScript(join(dir, "s/merge.sh"), {}, join(dir, "m.out")), [
      ...prefix,
      ...plugin,
      "merge",
      `${out}.shards/0-of-3`,
      `${out}.shards/1-of-3`,
      `${out}.shards/2-of-3`,
      "--out",
      out,
    ]);

    const { printed } = await call([
      file,
      "--slurm",
      "--shards",
      "4",
      "--tasks",
      "3,1",
      "--max-parallel",
      "2",
      "--dry-run",
    ]);
    assert.ok(printed.join("\n").includes("#SBATCH --array=1,3%2"));
    await assert.rejects(
      call([file, "--slurm", "--shards", "3", "--tasks", "3", "--dry-run"]),
      /--tasks is '3'; list shard indices below --shards 3/,
    );
    await assert.rejects(call([file, "--shards", "3"]), /choose one scheduler, --slurm or --k8s/);
    await assert.rejects(
      call([file, "--slurm", "--shards", "0", "--dry-run"]),
      /--shards is 0; give a whole number >= 1/,
    );
    await assert.rejects(
      call([file, "--slurm", "--shards", "2", "--sbatch", "account=lab", "--dry-run"]),
      /sbatch option 'account=lab' is not an option/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("submitSlurm() submits the array, then the merge with afterok on the array's id", async () => {
  const dir = await Deno.makeTempDir({ prefix: "submit_sbatch_" });
  try {
    const sbatch = join(dir, "sbatch");
    // Prints 4242 for the first call (with a cluster name, as --parsable does on federations)
    // and 4243 for the second; records each argv.
    await Deno.writeTextFile(
      sbatch,
      `#!/bin/bash\nn=$(ls ${dir}/calls 2>/dev/null | wc -l)\nmkdir -p ${dir}/calls\n` +
        `printf '%s\\n' "$@" > ${dir}/calls/$n\nif [ "$FAIL_MERGE" = 1 ] && [ $n = 1 ]; then ` +
        `echo "sbatch: error: Invalid account" >&2; exit 1; fi\necho "$((4242 + n));cluster"\n`,
    );
    await Deno.chmod(sbatch, 0o755);
    const plan = makeJobPlan({
      name: "toy",
      configHash: "f".repeat(64),
      experiment: "/srv/exp.json",
      shards: 2,
      out: join(dir, "runs", "toy"),
      workdir: dir,
      dramatis: dramatisCommand("deno"),
      globalArgs: [],
    });
    const scripts = slurmScripts(plan, { jobName: "t", tasks: [0, 1], extra: [] });
    const ids = await submitSlurm(scripts, sbatch);
    assert.deepEqual(ids, { arrayJobId: "4242", mergeJobId: "4243" });
    const argv = async (n: number) =>
      (await Deno.readTextFile(join(dir, "calls", String(n)))).trim().split("\n");
    assert.deepEqual(await argv(0), ["--parsable", scripts.array.path]);
    assert.deepEqual(await argv(1), [
      "--parsable",
      "--dependency=afterok:4242",
      "--kill-on-invalid-dep=yes",
      scripts.merge.path,
    ]);
    assert.equal(await Deno.readTextFile(scripts.array.path), scripts.array.text);
    assert.ok((await Deno.stat(scripts.logs)).isDirectory, "sbatch needs the log folder");

    await Deno.remove(join(dir, "calls"), { recursive: true });
    Deno.env.set("FAIL_MERGE", "1");
    try {
      await assert.rejects(
        submitSlurm(scripts, sbatch),
        (e: Error & { code?: string }) =>
          e.code === "E_SCHEDULER" &&
          /array job 4242 is queued, but sbatch refused the merge job .*Invalid account/.test(
            e.message,
          ),
      );
    } finally {
      Deno.env.delete("FAIL_MERGE");
    }
    await assert.rejects(
      submitSlurm(scripts, join(dir, "no-sbatch-here")),
      (e: Error & { code?: string }) => e.code === "E_SCHEDULER" && /--dry-run/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("submit --k8s --dry-run prints an Indexed Job and a suspended merge Job that Kubernetes' schema accepts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "submit_k8s_" });
  try {
    const file = join(dir, "exp.json");
    await Deno.writeTextFile(file, JSON.stringify(await toyExperiment(dir, 5)));
    const flags = [
      file,
      "--k8s",
      "--shards",
      "4",
      "--out",
      join(dir, "runs", "toy"),
      "--mount-path",
      "/",
      "--max-parallel",
      "2",
      "--secret",
      "endpoints",
      "--memory",
      "4Gi",
      "--dry-run",
    ];
    const { out } = await call([...flags, "--json"]);
    const manifests = (out as { manifests: Record<string, unknown>[] }).manifests;
    const { printed } = await call(flags);
    const yaml = printed.join("\n");
    // deno-lint-ignore no-explicit-any
    const docs: any[] = yaml.split(/^---$/m).slice(1).map((d) => parseYaml(d));
    assert.deepEqual(manifests, docs, "the YAML says what --json says");
    for (const doc of docs) new Job(doc).validate(); // Kubernetes' OpenAPI schema of batch/v1 Job
    const [shards, merge] = docs;
    assert.equal(shards.spec.completionMode, "Indexed");
    assert.equal(shards.spec.completions, 4);
    assert.equal(shards.spec.parallelism, 2);
    assert.ok(shards.spec.backoffLimitPerIndex >= 1);
    const container = shards.spec.template.spec.containers[0];
    const command: string[] = container.command;
    assert.deepEqual(command.slice(-5), [
      "--shard",
      "auto/4",
      "--shards-dir",
      join(dir, "runs", "toy.shards"),
      "--no-report",
    ]);
    assert.equal(command[0], "deno");
    assert.equal(container.envFrom[0].secretRef.name, "endpoints");
    assert.equal(container.env[0].name, "DRAMATIS_CACHE", "pods share the model cache");
    assert.equal(container.resources.requests.memory, "4Gi");
    assert.equal(
      shards.spec.template.spec.volumes[0].persistentVolumeClaim.claimName,
      "dramatis-shared",
    );
    assert.equal(merge.spec.suspend, true, "the merge waits until it is resumed");
    assert.ok(merge.spec.template.spec.containers[0].command.includes("merge"));
    assert.match(
      yaml,
      /kubectl wait --for=condition=complete --timeout=24h job\/dramatis-toy-exp-shards/,
    );
    assert.match(yaml, /kubectl patch job\/dramatis-toy-exp-merge .*"suspend":false/);

    await assert.rejects(
      call([file, "--k8s", "--shards", "2", "--mount-path", "/nonexistent-volume", "--dry-run"]),
      /lies outside --mount-path \/nonexistent-volume/,
    );
    await assert.rejects(call([file, "--k8s", "--shards", "2"]), /prints the manifest only/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseTaskList() reads Slurm-style id lists", () => {
  assert.deepEqual(parseTaskList("0-2,5", 6), [0, 1, 2, 5]);
  assert.deepEqual(parseTaskList("1,1", 2), [1]);
  for (const bad of ["", "2-1", "a", "6", "0-6"]) assert.throws(() => parseTaskList(bad, 6));
});

Deno.test("hubModelIds() lists the hub ids submit fetches before the shards start", async () => {
  const dir = await Deno.makeTempDir({ prefix: "submit_hub_" });
  try {
    await Deno.mkdir(join(dir, "local", "model"), { recursive: true });
    const ids = hubModelIds(
      {
        a: { kind: "local", path: "Qwen/Qwen3-0.6B" },
        b: { kind: "local", path: "local/model" }, // a folder beside the experiment
        c: { kind: "local", path: "{{artifacts.train}}" },
        d: { kind: "openai" },
        e: { kind: "local", path: "./tiny" },
      },
      { p: { model: "HuggingFaceTB/SmolLM2-135M" }, q: { model: "Qwen/Qwen3-0.6B" } },
      dir,
    );
    assert.deepEqual(ids, ["HuggingFaceTB/SmolLM2-135M", "Qwen/Qwen3-0.6B"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
