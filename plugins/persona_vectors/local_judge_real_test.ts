import assert from "node:assert/strict";
import { Engine } from "../../core/model/engine.ts";
import { REAL_TOKENIZER_PRESETS } from "../../core/model/real_presets.ts";
import { digitContinuations, localNumberJudge, numberSequences } from "./local_judge.ts";
import { COHERENCE_PROMPT, fillJudgeTemplate } from "./judge_prompts.ts";
import { numberSequenceScore } from "./judge_scoring.ts";
import { logSoftmax } from "../../core/model/sampling.ts";
import { realTokenizerModelDir } from "../../core/model/testing/real_models.ts";
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

Deno.test("localNumberJudge() reuses the prompt's cache and scores exactly as full forward passes do", async () => {
  // A random (untrained) model spreads its mass over many numbers, so many prefixes are expanded.
  const dir = await realTokenizerModelDir({ preset: "tiny-qwen3-real", seed: 3 });
  const root = await Deno.makeTempDir({ prefix: "dramatis_judge_reuse_" });
  const engine = await Engine.load(dir, { threads: 1, cacheDir: `${root}/cache` });
  try {
    const judge = localNumberJudge({
      name: "coherence",
      template: COHERENCE_PROMPT,
      engine,
      minMass: 0,
    });
    const qa = { question: "How are you today?", answer: "Fine, thanks for asking." };
    const v = await judge.judge(qa, {});
    assert.ok(v.value, `null verdict: ${v.reason}`);
    // Oracle: the same sequence scoring over full forward passes of prompt + prefix.
    const tok = engine.tokenizer;
    const text = tok.applyChatTemplate([{
      role: "user",
      content: fillJudgeTemplate(COHERENCE_PROMPT, qa),
    }], { addGenerationPrompt: true });
    const prompt = tok.encode(text, { addSpecialTokens: false });
    const continuation = digitContinuations(tok);
    let rows = 0, tokens = 0;
    const want = await numberSequenceScore(
      async (prefixes) => {
        rows += prefixes.length;
        for (const p of prefixes) tokens += prompt.length + p.length;
        const r = await engine.forward(prefixes.map((p) => [...prompt, ...p]), { logitsToKeep: 1 });
        const V = r.logits.dims[2];
        const data = r.logits.data as Float32Array;
        return prefixes.map((_, b) => logSoftmax(data.subarray(b * V, (b + 1) * V)));
      },
      numberSequences(tok, text, prompt),
      (id) => continuation[id] === 1,
      { minMass: 0 },
    );
    assert.ok(rows >= 4, `only ${rows} prefixes were expanded`);
    assert.ok(Math.abs(v.value.score - want.score!) < 1e-4, `${v.value.score} vs ${want.score}`);
    assert.ok(Math.abs(v.value.mass - want.mass) < 1e-5, `${v.value.mass} vs ${want.mass}`);
    // Every row after the first restored the prompt but its last token from the cache.
    assert.equal(judge.stats.promptTokens, tokens);
    assert.ok(
      judge.stats.reusedPromptTokens >= (rows - 1) * (prompt.length - 1),
      `reused ${judge.stats.reusedPromptTokens} of ${judge.stats.promptTokens} prompt tokens`,
    );
    console.log(
      `judge: ${rows} prefixes, ${judge.stats.reusedPromptTokens} of ${judge.stats.promptTokens} prompt tokens reused`,
    );
  } finally {
    await engine.close();
    await Deno.remove(root, { recursive: true });
  }
});
