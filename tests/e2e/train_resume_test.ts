/**
 * A training step killed with SIGKILL mid-run and run again reports its whole history: the
 * step's metrics.jsonl has every training step once, `first_loss` is the first attempt's, and
 * the report's loss chart covers every step. The quickstart variant (its pretraining killed
 * between checkpoints) runs with DRAMATIS_SLOW_TESTS=1.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { createTinyModel } from "../../core/model/tiny.ts";
import { chooseCharts } from "../../core/report/chart_specs.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

function spawnRun(experiment: string, out: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "main.ts"), "run", experiment, "--out", out],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

async function readLines(path: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.split("\n").filter((l) => l.trim()).flatMap((l) => {
    try {
      return [JSON.parse(l)];
    } catch {
      return [];
    }
  });
}

/** Runs the experiment, SIGKILLs it once the trainer checkpointed past `killAfter`, reruns it. */
async function killAndResume(
  experiment: string,
  out: string,
  stepId: string,
  killAfter: number,
  totalSteps: number,
) {
  const artifacts = join(out, "artifacts", stepId);
  const first = spawnRun(experiment, out);
  const stderr = new Response(first.stderr).text();
  let firstAttempt: Record<string, unknown>[] = [];
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    firstAttempt = await readLines(join(artifacts, "metrics.jsonl"));
    const reached = firstAttempt.some((r) => r.type === "step" && (r.step as number) >= killAfter);
    const ckpts = [
      ...(await Array.fromAsync(
        Deno.readDir(join(artifacts, "checkpoints")),
      ).catch(() => [])),
    ].filter((e) => e.name.startsWith("step-"));
    if (reached && ckpts.length) break;
    if (Date.now() > deadline) throw new Error("the first attempt never reached a checkpoint");
    const exited = await Promise.race([
      first.status.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 25)),
    ]);
    if (exited) throw new Error(`the first attempt ended before the kill: ${await stderr}`);
  }
  first.kill("SIGKILL");
  await first.status;
  await stderr.catch(() => {});
  const lastBefore = Math.max(
    ...firstAttempt.filter((r) => r.type === "step").map((r) => r.step as number),
  );
  assert.ok(lastBefore < totalSteps, "the kill came before the end of training");
  const firstLoss = firstAttempt.find((r) => r.type === "step" && r.step === 1)?.loss as number;
  assert.ok(Number.isFinite(firstLoss));

  const second = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "main.ts"), "run", experiment, "--out", out],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(second.code, 0, new TextDecoder().decode(second.stderr));

  const stepMetrics = await readLines(join(out, "steps", stepId, "metrics.jsonl"));
  const losses = stepMetrics.filter((m) => m.name === "loss").map((m) => m.x as number);
  assert.deepEqual(losses, Array.from({ length: totalSteps }, (_, i) => i + 1));
  const firstLossMetric = stepMetrics.find((m) => m.name === "first_loss" && m.x === undefined);
  assert.equal(firstLossMetric?.value, firstLoss, "first_loss is the first attempt's");
  const runMetrics = await readLines(join(out, "metrics.jsonl"));
  // deno-lint-ignore no-explicit-any
  const charts = chooseCharts(runMetrics as any);
  const loss = charts.find((c) => c.title === `Loss — ${stepId}`);
  assert.ok(loss, "the report has the step's loss chart");
  // The drawn points (the chart may thin a long curve, but never cut its start or end).
  const drawn = (loss.spec as { data: { values: { step: number; series: string }[] } }).data.values
    .filter((v) => v.series === "loss").map((v) => v.step);
  assert.equal(Math.min(...drawn), 1, "the curve starts at step 1 (the first attempt)");
  assert.equal(Math.max(...drawn), totalSteps, "the curve ends at the last step");
  assert.ok(drawn.some((x) => x < lastBefore) && drawn.some((x) => x > lastBefore));
  const report = await Deno.readTextFile(join(out, "report.html"));
  assert.ok(report.includes(`Loss — ${stepId}`));
  return { lastBefore, firstLoss };
}

Deno.test({
  name: "a SIGKILLed training step resumes and reports its whole history",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "dramatis-resume-" });
    try {
      await createTinyModel(join(dir, "tiny"), { preset: "tiny-llama", seed: 5 });
      const total = 40;
      const experiment = join(dir, "exp.json");
      await Deno.writeTextFile(
        experiment,
        JSON.stringify({
          name: "resume",
          plugins: { lora: {} },
          models: { tiny: { kind: "local", path: "./tiny" } },
          datasets: { chat: join(ROOT, "datasets/train/lighthouse_keeper.jsonl") },
          steps: [{
            id: "pretrain",
            kind: "train",
            plugin: "lora",
            with: {
              model: "tiny",
              data: "chat",
              config: {
                trainable: "all",
                steps: total,
                learning_rate: 0.003,
                batch_size: 2,
                max_length: 256,
                eval_split: 0.1,
                eval_every: 10,
                save_every: 10,
              },
            },
          }],
        }),
      );
      const { lastBefore } = await killAndResume(
        experiment,
        join(dir, "run"),
        "pretrain",
        15,
        total,
      );
      console.log(
        `resume: killed after step ${lastBefore} of ${total}; the rerun reports 1..${total}`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "the quickstart's pretraining killed mid-run and rerun reports steps 1-300 once",
  ignore: Deno.env.get("DRAMATIS_SLOW_TESTS") !== "1",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "dramatis-quickstart-resume-" });
    try {
      const quickstart = JSON.parse(
        await Deno.readTextFile(join(ROOT, "examples/quickstart.json")),
      );
      const step = quickstart.steps.find((s: { kind: string }) => s.kind === "train");
      const total = step.with.config.steps as number;
      // Only the pretraining and what it needs: the rest of the quickstart is not under test.
      quickstart.steps = [step];
      const base = join(dir, "tiny");
      await createTinyModel(base, { preset: "tiny-llama", seed: 0 });
      quickstart.models = { [step.with.model]: { kind: "local", path: base } };
      const data = quickstart.datasets[step.with.data];
      quickstart.datasets = {
        [step.with.data]: data.startsWith("/") ? data : join(ROOT, "examples", data),
      };
      const experiment = join(dir, "quickstart.json");
      await Deno.writeTextFile(experiment, JSON.stringify(quickstart));
      await killAndResume(experiment, join(dir, "run"), step.id, 150, total);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
