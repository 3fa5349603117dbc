import assert from "node:assert/strict";
import { join } from "node:path";
import { readDecoderConfig } from "../../core/model/config.ts";
import { createTinyModel } from "../../core/model/tiny.ts";
import { errorCode } from "../../core/errors.ts";
import { PluginRegistry } from "../../core/plugin/registry.ts";
import { ModelHub } from "../../core/services/model_hub.ts";
import { encodeVectorFile } from "../../core/steering/vector_file.ts";
import { loadVectorFile } from "../../core/steering/vector_io.ts";
import { personaVectors } from "./plugin.ts";
import { projectResponse } from "./project_response.ts";

Deno.test("the projections request extension: the plugin's wrapper answers it on hub-built local models and strips it before the engine", async () => {
  const dir = await Deno.makeTempDir();
  const registry = new PluginRegistry();
  registry.register(personaVectors());
  const hub = new ModelHub({ cacheDir: join(dir, "g"), threads: 1, registry });
  const bare = new ModelHub({ cacheDir: join(dir, "g"), threads: 1 });
  try {
    const model = join(dir, "m");
    await createTinyModel(model, { preset: "tiny-llama", seed: 5 });
    const { numLayers: L, hiddenSize: d } = await readDecoderConfig(model);
    const data = new Float32Array((L + 1) * d).map((_, i) => Math.sin(i + 1));
    const file = join(dir, "calm.safetensors");
    await Deno.writeFile(
      file,
      encodeVectorFile({ rows: L + 1, cols: d, data }, {
        model,
        trait: "calm",
        type: "response_avg",
        n_pos: 1,
        n_neg: 1,
        threshold: 0,
      }),
    );
    assert.deepEqual(
      registry.requestExtensions().map((e) => [e.name, e.appliesTo]),
      [["projections", "wrapper"]],
    );
    const messages = [{ role: "user" as const, content: "How is the sea today?" }];
    const request = {
      messages,
      max_tokens: 6,
      temperature: 0,
      extensions: { projections: { vectors: [file], layer: 1 } },
    };
    const chat = await hub.chatModel(model);
    const r = await chat.chat(request);
    const values = r.metadata?.persona_projections as Record<string, number>[];
    assert.equal(values.length, 1);
    // Oracle: the plugin's projection of the same reply, computed on the engine directly.
    const engine = await hub.engine(model);
    const want = await projectResponse(
      engine,
      messages,
      r.choices[0].message.content,
      { calm: await loadVectorFile(file) },
      1,
    );
    assert.ok(Number.isFinite(want.calm));
    assert.deepEqual(values[0], want);
    // The reply is the plain model's: the extension never reached the engine.
    const plain = await chat.chat({ messages, max_tokens: 6, temperature: 0 });
    assert.equal(r.choices[0].message.content, plain.choices[0].message.content);
    // Streams cannot carry it; a bad value names the field.
    assert.throws(() => chat.stream(request), (e) => errorCode(e) === "E_CONFIG");
    await assert.rejects(
      () => chat.chat({ messages, extensions: { projections: { vectors: [], layer: 1 } } }),
      (e) => errorCode(e) === "E_CONFIG" && /projections\.vectors/.test((e as Error).message),
    );
    // Without the plugin nothing answers it: refused, never ignored.
    const unwrapped = await bare.chatModel(model);
    await assert.rejects(
      () => unwrapped.chat(request),
      (e) =>
        errorCode(e) === "E_USAGE" &&
        /request extension projections .*no adapter of this model reads it/.test(
          (e as Error).message,
        ),
    );
    await assert.rejects(
      () => unwrapped.chat({ messages, extensions: { identities: ["Doctor"] } }),
      (e) => errorCode(e) === "E_USAGE" && /identities/.test((e as Error).message),
    );
  } finally {
    await hub.close();
    await bare.close();
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});
