/**
 * A LoRA trained on a chat set with the real Llama-2 tokenizer answers with the tokens training
 * taught, not with a stray leading "▁": training tokenizes the rendered conversation once, so the
 * first reply token it learns is the one inference needs after "[/INST]".
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { readDecoderConfig } from "../../core/model/config.ts";
import { Engine } from "../../core/model/engine.ts";
import { createRealTokenizerModel } from "../../core/model/real_presets.ts";
import { loadTokenizer } from "../../core/model/tokenizer.ts";
import { tokenizeConversation } from "../../core/train/chat_tokenize.ts";
import { loadLora } from "./load_lora.ts";
import { createLoraTrainer } from "./trainer.ts";

const QUESTIONS = [
  "Where is the ship?",
  "What do you eat?",
  "Who are you?",
  "How is the weather?",
  "Where do we sail?",
  "What is that noise?",
  "Can you swim?",
  "Why so quiet?",
];

Deno.test("a LoRA trained with the real Llama-2-chat tokenizer answers without a stray leading token", async () => {
  const root = await Deno.makeTempDir({ prefix: "dramatis_lora_l2_" });
  try {
    const model = join(root, "model");
    await createRealTokenizerModel(model, { preset: "tiny-llama2-chat", seed: 2 });
    const tok = await loadTokenizer(model);
    const convs = QUESTIONS.map((q) => ({
      messages: [
        { role: "system", content: "You are a pirate." },
        { role: "user", content: q },
        { role: "assistant", content: "Arr, aye matey." },
      ],
    }));
    const data = join(root, "chat.jsonl");
    await Deno.writeTextFile(data, convs.map((c) => JSON.stringify(c)).join("\n") + "\n");
    // What training teaches as the reply's first token (whole-conversation tokenization).
    const ex = tokenizeConversation(tok, convs[0].messages);
    const first = ex.inputIds[ex.labels.findIndex((l) => l !== -100)];
    const space = tok.tokenToId("\u2581")!;
    assert.equal(tok.idToToken(first), "\u2581Arr");
    assert.notEqual(first, space);

    const out = join(root, "lora");
    await createLoraTrainer({ progress: false, runner: "in-process" }).train({
      model,
      data,
      out,
      config: {
        steps: 40,
        learning_rate: 2e-2,
        r: 8,
        lora_alpha: 16,
        target_modules: "all-linear",
        batch_size: 4,
      },
    });
    const adapter = await loadLora(out, await readDecoderConfig(model));
    const engine = await Engine.load(model, {
      threads: 1,
      cacheDir: join(root, "graphs"),
      adapters: [adapter],
    });
    try {
      const r = await engine.generate(
        [[{ role: "system", content: "You are a pirate." }, {
          role: "user",
          content: "Where is the ship?",
        }]],
        { temperature: 0, maxNewTokens: 8 },
      );
      const c = r.completions[0];
      assert.equal(c.tokens[0], first, `first token ${tok.idToToken(c.tokens[0])}`);
      assert.ok(c.text.startsWith("Arr"), JSON.stringify(c.text));
    } finally {
      await engine.close();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
