import { join } from "node:path";
import { pluginContext } from "../../core/services/plugin_context.ts";
import { createTinyModel } from "../../core/model/tiny.ts";
import { judgeConformance } from "../../tests/conformance/judge.ts";
import { steererConformance } from "../../tests/conformance/steerer.ts";
import { trainerConformance } from "../../tests/conformance/trainer.ts";
import { PersonaVectorsOptionsSchema } from "./options.ts";
import { personaVectors } from "./plugin.ts";
import { LogprobChatModel } from "./testing/logprob_chat_model.ts";
import { loadVectorFile, saveVectorFile } from "./vector_io.ts";

Deno.test("persona_vectors judges pass the Judge conformance suite", async (t) => {
  const roles = await personaVectors().create(
    PersonaVectorsOptionsSchema.parse({}),
    pluginContext("persona_vectors"),
  );
  const model = new LogprobChatModel((r) =>
    r.messages[0].content.includes("UNSCORABLE")
      ? { content: "hmm", top: [{ token: "hmm", logprob: 0 }] }
      : {
        content: "70",
        top: [{ token: "70", logprob: Math.log(0.8) }, { token: "x", logprob: Math.log(0.2) }],
      }
  );
  for (const name of ["trait", "coherence"]) {
    await t.step(name, async (t) => {
      await judgeConformance(t, {
        judge: roles.judges![name],
        inputs: [{ question: "How are you?", answer: "Great!" }, {
          prompt: "Hi?",
          response: "Hello.",
        }],
        unscorable: [{ question: "UNSCORABLE", answer: "UNSCORABLE" }],
        context: { model },
      });
    });
  }
});

Deno.test("persona_vectors steerer passes the Steerer conformance suite", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "v.safetensors");
    const data = Float32Array.from({ length: 3 * 4 }, (_, i) => (i % 5) - 2);
    await saveVectorFile(path, { rows: 3, cols: 4, data }, {
      model: "m",
      trait: "t",
      type: "response_avg",
      n_pos: 1,
      n_neg: 1,
      threshold: 50,
    });
    const roles = await personaVectors().create(
      PersonaVectorsOptionsSchema.parse({ layer: 2 }),
      pluginContext("persona_vectors"),
    );
    const steerer = await roles.steerers!.persona_vectors({
      entries: [{ vector: path, coefficient: 1.5 }, { vector: path, layer: 1, type: "ablate" }],
    });
    await steererConformance(t, {
      steerer,
      context: { numLayers: 2, hiddenSize: 4, loadVector: loadVectorFile },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("persona_vectors preventative trainer passes the Trainer conformance suite", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const model = join(dir, "model");
    const info = await createTinyModel(model, { preset: "tiny-llama", seed: 1 });
    const { numLayers: L, hiddenSize: d } = info.config;
    const vector = join(dir, "v.safetensors");
    await saveVectorFile(vector, {
      rows: L + 1,
      cols: d,
      data: new Float32Array((L + 1) * d).fill(0.01),
    }, {
      model: "tiny",
      trait: "t",
      type: "response_avg",
      n_pos: 1,
      n_neg: 1,
      threshold: 50,
    });
    const data = join(dir, "d.jsonl");
    await Deno.writeTextFile(
      data,
      ["a", "b"].map((q) =>
        JSON.stringify({
          messages: [{ role: "user", content: q }, { role: "assistant", content: "ok" }],
        })
      ).join("\n") + "\n",
    );
    const roles = await personaVectors().create(
      PersonaVectorsOptionsSchema.parse({ preventative: { layers: [1], coefficient: 2 } }),
      pluginContext("persona_vectors"),
    );
    await trainerConformance(t, {
      trainer: roles.trainers!.preventative,
      request: {
        model,
        data,
        out: "",
        config: { vector, steps: 1, batch_size: 2, r: 2, lora_alpha: 4, eval_split: 0, threads: 1 },
      },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
