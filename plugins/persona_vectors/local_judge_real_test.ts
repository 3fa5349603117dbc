import assert from "node:assert/strict";
import { Engine } from "../../core/model/engine.ts";
import { REAL_TOKENIZER_PRESETS } from "../../core/model/real_presets.ts";
import { COHERENCE_PROMPT } from "./judge_prompts.ts";
import { localNumberJudge } from "./local_judge.ts";
import { createRiggedJudgeModel } from "./testing/rigged_judge_model.ts";

for (const preset of REAL_TOKENIZER_PRESETS) {
  Deno.test(`localNumberJudge() reads 85 from a judge rigged to answer 85 (${preset})`, async () => {
    const root = await Deno.makeTempDir({ prefix: "dramatis_rig_" });
    try {
      const { answerIds } = await createRiggedJudgeModel(`${root}/model`, preset, "85");
      // Llama-3 writes 85 as one token; Qwen3 and Llama-2 split the digits.
      assert.equal(answerIds.length, preset === "tiny-llama31" ? 1 : 2);
      const engine = await Engine.load(`${root}/model`, { threads: 1, cacheDir: `${root}/cache` });
      try {
        // The greedy answer is the rigged one (the fixture works as a model).
        const g = await engine.generate([{ role: "user", content: "Rate this." }], {
          temperature: 0,
          maxNewTokens: 4,
        });
        assert.equal(g.completions[0].text.trim(), "85");
        const judge = localNumberJudge({ name: "coherence", template: COHERENCE_PROMPT, engine });
        const v = await judge.judge({ question: "How are you?", answer: "Fine, thanks." }, {});
        assert.ok(v.value, `null verdict: ${v.reason}`);
        console.log(`${preset}: rigged-85 judge score ${v.value.score}, mass ${v.value.mass}`);
        assert.ok(Math.abs(v.value.score - 85) <= 1, `score ${v.value.score}`);
        assert.ok(v.value.mass > 0.9, `mass ${v.value.mass}`);
      } finally {
        await engine.close();
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
}
