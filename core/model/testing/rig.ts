/**
 * Rigged test models: rewrites a model directory's weights so the model is a bigram table with
 * chosen transitions. Attention and MLP outputs are zeroed, so the final hidden state at a
 * position is the normalised embedding of that position's token; each rule's `from` tokens embed
 * as their own unit vector and every other token as e₀, and lm_head gives each rule's `to` token
 * a large logit along that vector (every other logit is 0). Test-only.
 *
 * @module
 */

import { join } from "node:path";
import { readDecoderConfig } from "../config.ts";
import { writeSafetensors } from "../safetensors.ts";
import { loadWeights } from "../weights.ts";

/** One transition: after any token of `from` (or any token not named by a rule: "*") comes `to`. */
export interface RigRule {
  from: number | "*";
  to: number;
}

/**
 * Rewrites `dir/model.safetensors` (float32) so greedy decoding follows `rules`. The model must
 * have an untied lm_head and at most hidden_size - 1 named `from` tokens.
 *
 * @example
 * ```ts ignore
 * import { rigNextTokens } from "./rig.ts";
 * await rigNextTokens(dir, [{ from: "*", to: 222 }]); // always emits token 222
 * ```
 */
export async function rigNextTokens(dir: string, rules: readonly RigRule[], gain = 30) {
  const config = await readDecoderConfig(dir);
  if (config.tieWordEmbeddings) throw new Error("rigNextTokens needs an untied lm_head");
  const weights = await loadWeights(dir, config);
  const d = config.hiddenSize;
  const named = rules.filter((r) => r.from !== "*").map((r) => r.from as number);
  if (new Set(named).size !== named.length || named.length >= d) {
    throw new Error(`rules need distinct from tokens, fewer than ${d}: ${JSON.stringify(named)}`);
  }
  for (const [name, t] of weights) {
    if (/(o_proj|down_proj)\.weight$/.test(name)) t.data.fill(0);
    if (name === "model.norm.weight") t.data.fill(1);
  }
  const embed = weights.get("model.embed_tokens.weight")!.data;
  const head = weights.get("lm_head.weight")!.data;
  embed.fill(0);
  head.fill(0);
  for (let id = 0; id < config.vocabSize; id++) embed[id * d] = 1;
  named.forEach((id, i) => {
    embed[id * d] = 0;
    embed[id * d + i + 1] = 1;
  });
  for (const r of rules) {
    const axis = r.from === "*" ? 0 : named.indexOf(r.from) + 1;
    // After the final norm a unit embedding is sqrt(d)·e_axis.
    head[r.to * d + axis] = gain / Math.sqrt(d);
  }
  const tensors = new Map(
    [...weights].map((
      [name, t],
    ) => [name, { dtype: "F32" as const, shape: t.shape, data: t.data }]),
  );
  await writeSafetensors(join(dir, "model.safetensors"), tensors, { format: "pt" });
}
