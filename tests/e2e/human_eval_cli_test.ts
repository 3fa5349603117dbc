/**
 * The human-evaluation round trip through the CLI: `roleplay human-eval-set` from dialogue files
 * and judge verdicts, `human-eval export`, a filled CSV sheet, `human-eval report --json`; the
 * figures are checked against counts and Cohen's formula on the constructed labels.
 */

import { runCli } from "../cli.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fromCsv, toCsv } from "../../core/human_eval/csv.ts";
import { readKey } from "../../core/human_eval/key.ts";

async function cli(...args: string[]) {
  const r = await runCli(args);
  assert.equal(r.code, 0, `${args.join(" ")}\n${r.stderr}`);
  return r;
}

Deno.test("roleplay human-eval-set → human-eval export → filled CSV → human-eval report", async () => {
  const dir = await Deno.makeTempDir({ prefix: "human_eval_cli_" });
  try {
    const record = (i: number, who: string) =>
      JSON.stringify({
        persona: "p",
        sample: { instruction: "goal" },
        num_turns: 1,
        dialog: [{ turn: 0, model_inquirer: `${who} asks ${i}`, model_responder: "reply" }],
        id: `${who}-${i}`,
      });
    const sim = join(dir, "sim.jsonl");
    const hum = join(dir, "human.jsonl");
    await Deno.writeTextFile(sim, [0, 1, 2, 3].map((i) => record(i, "sim")).join("\n") + "\n");
    await Deno.writeTextFile(hum, [0, 1].map((i) => record(i, "person")).join("\n") + "\n");
    // The judge calls sim 0, 1 simulated, sim 2 human, person 0 human, person 1 simulated; sim 3 failed.
    const verdict = (id: string, v: string | null) =>
      JSON.stringify({
        file: "x",
        index: -1,
        id,
        inquirer: "m",
        verdict: v ? { value: { verdict: v, rationale: "", confidence: 1 } } : { value: null },
      });
    const verdicts = join(dir, "verdicts.jsonl");
    await Deno.writeTextFile(
      verdicts,
      [
        verdict("sim-0", "simulated"),
        verdict("sim-1", "simulated"),
        verdict("sim-2", "human"),
        verdict("sim-3", null),
        verdict("person-0", "human"),
        verdict("person-1", "simulated"),
      ].join("\n") + "\n",
    );
    const setFile = join(dir, "set.json");
    await cli(
      "roleplay",
      "human-eval-set",
      "--dialogs",
      sim,
      "--human-dialogs",
      hum,
      "--verdicts",
      verdicts,
      "--out",
      setFile,
    );
    const exported = JSON.parse(
      (await cli("human-eval", "export", "--set", setFile, "--out", join(dir, "x"), "--json"))
        .stdout,
    );
    assert.equal(exported.items, 6);
    const key = await readKey(exported.key);
    // The person labels: every sim dialogue llm except sim 0; person 0 human, person 1 llm.
    const answer: Record<string, string> = {
      "sim-0": "human",
      "sim-1": "llm",
      "sim-2": "llm",
      "sim-3": "llm",
      "person-0": "human",
      "person-1": "llm",
    };
    const sheet = fromCsv(await Deno.readTextFile(exported.csv));
    for (const row of sheet.slice(1)) {
      const item = key.items.find((i) => i.anon === row[0])!;
      row[2] = answer[item.meta!.record_id as string];
    }
    const labels = join(dir, "rater.csv");
    await Deno.writeTextFile(labels, toCsv(sheet));
    const report = JSON.parse(
      (await cli(
        "human-eval",
        "report",
        "--key",
        exported.key,
        "--labels",
        labels,
        "--resamples",
        "300",
        "--json",
      )).stdout,
    );
    // People took 1 of the 4 model-played dialogues for human.
    assert.deepEqual(report.indistinguishability.llmItems, {
      answers: 4,
      judgedHuman: 1,
      rate: 0.25,
    });
    // The judge answered on 5 items (sim 3 failed): pairs (judge, people):
    // sim0 (llm, human), sim1 (llm, llm), sim2 (human, llm), person0 (human, human), person1 (llm, llm).
    const k = report.questions[0].judgeVsPeople;
    assert.equal(k.n, 5);
    const po = 3 / 5;
    const pe = (2 / 5) * (2 / 5) + (3 / 5) * (3 / 5);
    assert.ok(Math.abs(k.kappa - (po - pe) / (1 - pe)) < 1e-12, JSON.stringify(k));
    // People accuracy: right on sim1, sim2, sim3 and person0 (person1 is human, called llm) → 4 of 6.
    assert.equal(report.questions[0].people.correct, 4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
