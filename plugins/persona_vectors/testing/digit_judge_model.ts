/**
 * A test fixture: a tiny model that answers judge prompts with number tokens. A random tiny model
 * puts almost no probability on numbers, so every logprob judge verdict would be null; this
 * fixture rewrites the `lm_head` rows of the single-token numbers to point along the final hidden
 * state the model has after a judge prompt, with a spread of gains, so the first token is a number
 * with high probability and the expectation varies between answers. Test-only.
 *
 * @module
 */

import { join } from "node:path";
import { readDecoderConfig } from "../../../core/model/config.ts";
import { ModelHub } from "../../../core/services/model_hub.ts";
import { writeSafetensors } from "../../../core/model/safetensors.ts";
import { createTinyModel } from "../../../core/model/tiny.ts";
import { loadWeights } from "../../../core/model/weights.ts";
import { Prng } from "../../../core/util/prng.ts";
import { COHERENCE_PROMPT, fillJudgeTemplate } from "../judge_prompts.ts";
import { numberTokenIds } from "../local_judge.ts";

/**
 * Writes the digit-judge model (tiny-llama layout, untied lm_head) into `dir`.
 *
 * @example
 * ```ts ignore
 * import { createDigitJudgeModel } from "./digit_judge_model.ts";
 * await createDigitJudgeModel("/tmp/judge", "/tmp/cache");
 * ```
 */
export async function createDigitJudgeModel(
  dir: string,
  cacheDir: string,
  seed = 2,
): Promise<void> {
  await createTinyModel(dir, { preset: "tiny-llama", seed });
  const engine = await new ModelHub({ threads: 1, cacheDir }).openEngine(dir);
  let h0: Float32Array;
  let ids: number[];
  try {
    const content = fillJudgeTemplate(COHERENCE_PROMPT, {
      question: "How are you?",
      answer: "Fine.",
    });
    const prompt = engine.encode([{ role: "user", content }])[0];
    const r = await engine.forward([prompt], { hiddenStates: true });
    const L = engine.config.numLayers;
    const d = engine.config.hiddenSize;
    const S = r.hiddenStates![L].dims[1];
    h0 = (r.hiddenStates![L].data as Float32Array).slice((S - 1) * d, S * d);
    ids = numberTokenIds(engine.tokenizer);
  } finally {
    await engine.close();
  }
  const config = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
  const weights = await loadWeights(dir, await readDecoderConfig(dir));
  const head = weights.get("lm_head.weight") ?? weights.get("model.embed_tokens.weight")!;
  if (config.tie_word_embeddings) throw new Error("the digit judge needs an untied lm_head");
  const d = h0.length;
  const n2 = h0.reduce((a, x) => a + x * x, 0);
  const r = new Prng(seed);
  for (const id of ids) {
    if (id < 0) continue;
    const gain = 6 + 4 * r.next();
    for (let j = 0; j < d; j++) {
      head.data[id * d + j] = (gain * h0[j]) / n2 + 0.3 * (r.next() - 0.5);
    }
  }
  const tensors = new Map(
    [...weights].map((
      [name, t],
    ) => [name, { dtype: "F32" as const, shape: t.shape, data: t.data }]),
  );
  await writeSafetensors(join(dir, "model.safetensors"), tensors);
}
