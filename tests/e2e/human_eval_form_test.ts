/**
 * The annotation form in a real browser: headless Chromium opens the exported form.html, every
 * answer is given by clicking its radio label, the annotator name is typed, "Save labels" is
 * clicked and the downloaded labels file is imported; the reported judge-vs-people κ must equal
 * Cohen's formula on the constructed 2×2 table. Skipped when /usr/bin/chromium is missing.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { exportHumanEval } from "../../core/human_eval/export_set.ts";
import { parseHumanEvalSet } from "../../core/human_eval/items.ts";
import { readKey } from "../../core/human_eval/key.ts";
import { readLabels } from "../../core/human_eval/labels.ts";
import { humanEvalReport } from "../../core/human_eval/report.ts";
import { openPage } from "./chromium_cdp.ts";
import { chromiumAvailable } from "./screenshot.ts";

Deno.test({
  name: "the annotation form is filled by clicks in Chromium and its labels give the expected κ",
  ignore: !chromiumAvailable,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "human_eval_form_" });
    try {
      // Judge and planned human answers on 10 items: (judge, human) =
      // 4 × (yes, yes), 1 × (yes, no), 2 × (no, yes), 3 × (no, no).
      const plan: [string, string][] = [
        ...Array(4).fill(["yes", "yes"]),
        ["yes", "no"],
        ...Array(2).fill(["no", "yes"]),
        ...Array(3).fill(["no", "no"]),
      ];
      const set = parseHumanEvalSet({
        task: "generic",
        title: "Is the reply in character?",
        instructions: "Read each exchange and answer.",
        questions: [{ id: "in_character", prompt: "In character?", choices: ["yes", "no"] }],
        items: plan.map(([judge], i) => ({
          id: `case-${i}`,
          turns: [
            { speaker: "User", content: `Question number ${i} <b>bold?</b>` },
            { speaker: "Character", content: `Answer ${i}` },
          ],
          judge: { in_character: judge },
        })),
      }, "constructed");
      const files = await exportHumanEval(set, { out: join(dir, "export"), seed: 11 });
      const key = await readKey(files.key);
      const downloads = join(dir, "downloads");
      await Deno.mkdir(downloads);
      const page = await openPage(`file://${files.form}`, downloads);
      try {
        for (const item of key.items) {
          const human = plan[Number(item.id.slice("case-".length))][1];
          await page.click(`label[for="${item.anon}__in_character__${human === "yes" ? 0 : 1}"]`);
        }
        await page.type("#annotator", "ann 1");
        assert.equal(
          await page.evaluate<string>(`document.getElementById("progress").textContent`),
          "10 of 10 answers",
        );
        // The text was escaped, not interpreted.
        assert.equal(await page.evaluate<number>(`document.querySelectorAll(".turn b").length`), 0);
        await page.click("#save");
        const saved = await page.nextDownload();
        assert.match(saved, /labels_ann_1\.json$/);
        const labels = await readLabels(saved, key);
        assert.equal(labels.annotator, "ann 1");
        assert.equal(labels.labels.size, 10);
        const report = humanEvalReport(key, [labels], { resamples: 500, seed: 1 });
        const k = report.questions[0].judgeVsPeople!;
        // Cohen's κ on the table: po = (4 + 3) / 10; pe = P(judge yes)·P(human yes) + P(no)·P(no).
        const po = 7 / 10;
        const pe = (5 / 10) * (6 / 10) + (5 / 10) * (4 / 10);
        assert.ok(Math.abs(k.kappa - (po - pe) / (1 - pe)) < 1e-12, `κ ${k.kappa}`);
        assert.ok(Math.abs(k.kappa - 0.4) < 1e-12);
        assert.ok(k.low <= k.kappa && k.kappa <= k.high);
        assert.equal(k.n, 10);
      } finally {
        await page.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
