/**
 * End to end on a real Slurm cluster (single node on loopback, started by the test): a small
 * roleplay experiment on the tiny model goes through `dramatis submit --slurm --shards 3`, three
 * array tasks and the dependent merge job run under slurmd, and the merged records, metrics and
 * report equal an unsharded run of the same experiment (timing fields aside). Then one array
 * task is cancelled mid-run: Slurm cancels the merge (its dependency can no longer hold), the
 * merge verb refuses the incomplete shard set naming that shard, and resubmitting that shard
 * alone (`--tasks 1`) resumes it and completes the experiment with nothing duplicated or lost.
 * Skipped, with a message, where Slurm cannot be started (no slurm-wlm/munge, not root).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTinyModel } from "../../core/model/tiny.ts";
import { type SlurmCluster, slurmUnavailable, startSlurmCluster } from "./slurm_cluster.ts";
import { runCli } from "../cli.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const unavailable = slurmUnavailable();
if (unavailable) console.warn(`SKIPPED tests/e2e/slurm_test.ts: ${unavailable}`);

const dramatis = (args: string[], env: Record<string, string> = {}) => runCli(args, env, REPO);

async function experiment(dir: string): Promise<string> {
  const model = join(dir, "tiny-llama");
  // Room for the roleplay prompts (about 700 tokens with the tiny byte-level tokenizer).
  await createTinyModel(model, { preset: "tiny-llama", seed: 1, maxPositionEmbeddings: 4096 });
  // Twelve dialogues (the shipped four, three times under new ids): four per shard.
  const base = (await Deno.readTextFile(join(REPO, "examples/roleplay/dialogues.jsonl")))
    .split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  const lines: string[] = [];
  for (let copy = 0; copy < 3; copy++) {
    for (const r of base) lines.push(JSON.stringify({ ...r, id: `${r.id}#${copy}` }));
  }
  await Deno.writeTextFile(join(dir, "dialogues.jsonl"), lines.join("\n") + "\n");
  const file = join(dir, "exp.json");
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      name: "slurm-roleplay",
      seed: 7,
      plugins: {
        roleplay: {
          numTurns: 3,
          inquirerMaxTokens: 48,
          responderMaxTokens: 24,
          regenerateTries: 1,
          judgeMaxTokens: 32,
          judgeMaxRetries: 0,
        },
      },
      models: {
        user: { kind: "persona", persona: "user" },
        assistant: { kind: "persona", persona: "assistant" },
        judge: { kind: "local", path: model },
      },
      personas: {
        user: {
          name: "user",
          model,
          system_prompt: 'You type short requests to a chatbot in "double quotes".',
        },
        assistant: { name: "assistant", model, system_prompt: "You answer briefly." },
      },
      datasets: { dialogues: "./dialogues.jsonl" },
      steps: [
        {
          id: "dialogues",
          kind: "simulate",
          plugin: "roleplay",
          role: "roleplay",
          with: { inputs: "dialogues", models: { inquirer: "user", responder: "assistant" } },
        },
        {
          id: "verdicts",
          kind: "judge",
          plugin: "roleplay",
          role: "indistinguishability",
          with: { inputs: { step: "dialogues", field: "output.metadata.record" }, model: "judge" },
        },
      ],
    }),
  );
  return file;
}

/** What must agree between the unsharded run and the merge: records, metrics, report. */
async function results(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const step of ["dialogues", "verdicts"]) {
    out[`steps/${step}/output.jsonl`] = await Deno.readTextFile(
      join(dir, "steps", step, "output.jsonl"),
    );
  }
  out["metrics.jsonl"] = await Deno.readTextFile(join(dir, "metrics.jsonl"));
  // Timing fields aside: step durations, the run directory's own path, the merge note.
  out["report.html"] = (await Deno.readTextFile(join(dir, "report.html")))
    .replaceAll(dir, "<run>")
    .replace(/ · merged from \d+ shards/, "")
    .replace(/<td>\d+(\.\d+)? s<\/td>|<td>\d+ min \d+ s<\/td>/g, "<td>(time)</td>");
  return out;
}

async function submit(
  cluster: SlurmCluster,
  file: string,
  out: string,
  extra: string[] = [],
): Promise<{ array_job_id: string; merge_job_id: string }> {
  const r = await dramatis(
    [
      "submit",
      file,
      "--slurm",
      "--shards",
      "3",
      "--out",
      out,
      "--time",
      "00:10:00",
      ...extra,
      "--json",
    ],
    cluster.env,
  );
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.match(json.array_job_id, /^\d+$/);
  assert.match(json.merge_job_id, /^\d+$/);
  return json;
}

/** Waits until every job (or array task) of `id` has left PENDING/RUNNING; returns the states. */
async function settle(cluster: SlurmCluster, id: string, timeoutMs = 240_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const jobs = await cluster.jobs(id);
    const states = jobs.map((j) => j.JobState);
    if (states.length && states.every((s) => !/PENDING|RUNNING|CONFIGURING|COMPLETING/.test(s))) {
      return states;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `job ${id} still ${states.join(",")} after ${timeoutMs} ms\n${await cluster.logs()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function logsOf(dir: string): Promise<string> {
  const parts: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      parts.push(`--- ${e.name}\n${await Deno.readTextFile(join(dir, e.name))}`);
    }
  } catch { /* none */ }
  return parts.sort().join("\n");
}

/** Whole JSON lines of a JSONL file (a line cut by a kill does not count). */
async function lineCount(path: string): Promise<number> {
  let text = "";
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return 0;
  }
  return text.split("\n").filter((l) => {
    try {
      JSON.parse(l);
      return true;
    } catch {
      return false;
    }
  }).length;
}

/** The pids of one array task's processes, found by the Slurm variables in their environment. */
function arrayTaskPids(arrayJobId: string, task: number): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    let env: string;
    try {
      env = Deno.readTextFileSync(`/proc/${entry.name}/environ`);
    } catch {
      continue; // exited, or not ours to read
    }
    const vars = env.split("\0");
    if (
      vars.includes(`SLURM_ARRAY_JOB_ID=${arrayJobId}`) &&
      vars.includes(`SLURM_ARRAY_TASK_ID=${task}`)
    ) pids.push(Number(entry.name));
  }
  return pids;
}

/** Whether a process runs Deno (the dramatis CLI), as opposed to the batch script's shell. */
function isDeno(pid: number): boolean {
  try {
    return /(^|\/)deno\0/.test(Deno.readTextFileSync(`/proc/${pid}/cmdline`));
  } catch {
    return false; // exited
  }
}

/** Sends `sig` to the given processes; returns those that were still there. */
function signal(pids: number[], sig: Deno.Signal): number[] {
  return pids.filter((pid) => {
    try {
      Deno.kill(pid, sig);
      return true;
    } catch {
      return false; // exited
    }
  });
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test({
  name: "submit --slurm runs 3 shards and a merge on a real Slurm cluster like one unsharded run",
  ignore: unavailable !== undefined,
  async fn() {
    const started = performance.now();
    const cluster = await startSlurmCluster();
    if (typeof cluster === "string") {
      console.warn(`SKIPPED tests/e2e/slurm_test.ts: ${cluster}`);
      return;
    }
    const work = await Deno.makeTempDir({ prefix: "slurm_exp_" });
    try {
      const file = await experiment(work); // the tiny model is made once, before any job
      const full = join(work, "full");
      const single = await dramatis(["run", file, "--out", full]);
      assert.equal(single.code, 0, single.stderr);
      const expected = await results(full);
      assert.equal(
        expected["steps/dialogues/output.jsonl"].trim().split("\n").length,
        12,
        "the reference run holds every dialogue",
      );

      // 1. Three array tasks and the merge job complete; the merge equals the unsharded run.
      const a = join(work, "a");
      const ids = await submit(cluster, file, a);
      const mergeStates = await settle(cluster, ids.merge_job_id);
      const logs = await logsOf(join(`${a}.shards`, "logs"));
      assert.deepEqual(mergeStates, ["COMPLETED"], logs);
      assert.deepEqual(await settle(cluster, ids.array_job_id), [
        "COMPLETED",
        "COMPLETED",
        "COMPLETED",
      ]);
      const tasks = (await cluster.jobs(ids.array_job_id)).map((j) => j.ArrayTaskId).sort();
      assert.deepEqual(tasks, ["0", "1", "2"]);
      for (let i = 0; i < 3; i++) {
        const shardItems = await lineCount(
          join(`${a}.shards`, `${i}-of-3`, "steps/dialogues/output.jsonl"),
        );
        assert.equal(shardItems, 4, `shard ${i} ran its four dialogues`);
      }
      assert.deepEqual(await results(a), expected);

      // 2. Cancel task 1 mid-run, see the merge refused, resubmit task 1 alone. On a fast machine
      // the shard can finish before it is frozen, and Slurm may resume the frozen task between
      // the cancel and the kill below, so a shard that finished, or a cancel that did not land
      // mid-step, is retried with a fresh submission (at most three).
      let b = "";
      let first: Awaited<ReturnType<typeof submit>> | undefined;
      let done = 0;
      for (let attempt = 1;; attempt++) {
        b = join(work, `b${attempt}`);
        first = await submit(cluster, file, b);
        const shard1 = join(`${b}.shards`, "1-of-3");
        const partial = join(shard1, "steps/dialogues/partial.jsonl");
        const deadline = Date.now() + 240_000;
        let finished = false;
        // The task's processes are found while it loads (a scan of /proc takes tens of
        // milliseconds, as long as the four dialogues on a fast machine), and partial.jsonl is
        // polled every few milliseconds, so the freeze follows its first line at once.
        let pids: number[] = [];
        while (await lineCount(partial) < 1) {
          assert.ok(Date.now() < deadline, `shard 1 never started\n${await cluster.logs()}`);
          finished = await exists(join(shard1, "steps/dialogues/output.jsonl"));
          if (finished) break;
          if (pids.length === 0) pids = arrayTaskPids(first.array_job_id, 1);
          await new Promise((r) => setTimeout(r, 5));
        }
        // Frozen at once, so a fast machine cannot finish the shard while the cancel travels
        // through slurmctld; Slurm's cancel then continues and kills it. Processes started after
        // the scan are frozen by a second one.
        const frozen = finished ? [] : [
          ...signal(pids, "SIGSTOP"),
          ...signal(
            arrayTaskPids(first.array_job_id, 1).filter((p) => !pids.includes(p)),
            "SIGSTOP",
          ),
        ];
        const atFreeze = await lineCount(partial);
        finished ||= atFreeze >= 4 || await exists(join(shard1, "steps/dialogues/output.jsonl"));
        if (finished) {
          signal(frozen, "SIGCONT");
          assert.ok(attempt < 3, "shard 1 finished before it could be frozen (3 attempts)");
          console.log(
            `slurm e2e: attempt ${attempt}: shard 1 finished before it could be frozen; ` +
              "retrying with a fresh submission",
          );
          await settle(cluster, first.merge_job_id);
          await settle(cluster, first.array_job_id);
          continue;
        }
        assert.ok(frozen.length > 0, "the processes of array task 1 were found");
        assert.ok(
          atFreeze >= 1 && atFreeze < 4,
          `frozen mid-step, after ${atFreeze} of 4 dialogues`,
        );
        // The cancel is recorded by the controller before it returns; the shard's Deno process
        // (the batch script, exec'd) is then killed outright while still frozen, as Slurm does
        // after its grace period. A SIGTERM alone lets the CLI drain, and a drain could finish
        // the shard's remaining dialogues, so the test would not see a mid-step cancel (the
        // fresh-clone check failed that way three attempts in a row). Killing it before the
        // cancel ended the job as FAILED instead.
        await cluster.client("scancel", [`${first.array_job_id}_1`]);
        signal(frozen.filter(isDeno), "SIGKILL");
        assert.deepEqual(await settle(cluster, `${first.array_job_id}_1`), ["CANCELLED"]);
        // A dialogue may land if Slurm resumed the task before the kill.
        done = await lineCount(partial);
        if (done >= atFreeze && !(await exists(join(shard1, "steps/dialogues/output.jsonl")))) {
          break;
        }
        assert.ok(attempt < 3, `cancelled mid-step, after ${done} of 4 dialogues (3 attempts)`);
        console.log(
          `slurm e2e: attempt ${attempt}: the cancel landed after the step (${done} of 4 in ` +
            "partial.jsonl); retrying with a fresh submission",
        );
        await settle(cluster, first.merge_job_id);
        await settle(cluster, first.array_job_id);
      }
      assert.deepEqual(await settle(cluster, first.merge_job_id), ["CANCELLED"]);
      const merge = (await cluster.jobs(first.merge_job_id))[0];
      assert.equal(merge.Reason, "DependencyNeverSatisfied");
      assert.deepEqual((await settle(cluster, first.array_job_id)).sort(), [
        "CANCELLED",
        "COMPLETED",
        "COMPLETED",
      ]);
      const refused = await dramatis(["merge", `${b}.shards`, "--out", b]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(
        refused.stderr,
        /error\[E_CONFIG\]: step 'dialogues' is (running|failed) in .*1-of-3; rerun that shard/,
      );

      const again = await submit(cluster, file, b, ["--tasks", "1"]);
      assert.deepEqual(
        await settle(cluster, again.merge_job_id),
        ["COMPLETED"],
        await logsOf(join(`${b}.shards`, "logs")),
      );
      assert.deepEqual(await settle(cluster, again.array_job_id), ["COMPLETED"]);
      const resumed = await Deno.readTextFile(
        join(`${b}.shards`, "logs", `shard-1.job-${again.array_job_id}.out`),
      );
      assert.match(resumed, new RegExp(`4 item\\(s\\) \\(shard 1/3 of 12\\), ${done} reused`));
      assert.deepEqual(await results(b), expected, "nothing duplicated or lost");
      console.log(
        `slurm e2e: ${((performance.now() - started) / 1000).toFixed(1)} s ` +
          "(cluster start, reference run, 2 submissions, 1 resubmission)",
      );
    } finally {
      await cluster.stop();
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  },
});
