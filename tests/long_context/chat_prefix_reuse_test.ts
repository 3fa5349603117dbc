/**
 * The engine's prefix cache serves chat requests as the server and the simulators send them
 * (through LocalChatModel): a scene whose requests share a persona system prompt reuses it from
 * the second turn on, and the replies equal those of an engine with reuse turned off.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { LocalChatModel } from "../../core/chat/local_chat_model.ts";
import type { ChatMessage } from "../../core/contracts/chat_model.ts";
import { Engine } from "../../core/model/engine.ts";
import { createTinyModel } from "../../core/model/tiny.ts";

Deno.test("LocalChatModel scenes reuse the persona system prompt and reply exactly as without reuse", async () => {
  const root = await Deno.makeTempDir({ prefix: "dramatis_chat_prefix_" });
  const engines: Engine[] = [];
  try {
    const dir = join(root, "m");
    await createTinyModel(dir, { preset: "tiny-llama", seed: 6, numLayers: 2 });
    const card = "You are Mara, the lighthouse keeper of Skerry Point. You speak in short, " +
      "weathered sentences, you distrust strangers from the mainland, and you keep a log of " +
      "every ship that passes. Stay in character and never mention being an AI.";
    const scene = async (prefixCacheBytes: number) => {
      const engine = await Engine.load(dir, {
        cacheDir: join(root, "graphs"),
        threads: 1,
        prefixCacheBytes,
      });
      engines.push(engine);
      const model = new LocalChatModel(engine);
      const messages: ChatMessage[] = [{ role: "system", content: card }];
      const replies: string[] = [];
      for (const line of ["Who keeps this light?", "A ship is coming.", "Write it down."]) {
        messages.push({ role: "user", content: line });
        const r = await model.chat({ messages, max_tokens: 6, temperature: 0, seed: 1 });
        const text = r.choices[0].message.content ?? "";
        replies.push(text);
        messages.push({ role: "assistant", content: text });
      }
      return { replies, stats: engine.prefixCache?.stats };
    };
    const reuse = await scene(64 * 1024 * 1024);
    const plain = await scene(0);
    assert.deepEqual(reuse.replies, plain.replies);
    assert.equal(plain.stats, undefined);
    assert.equal(reuse.stats!.hits, 2);
    assert.ok(reuse.stats!.reusedTokens > 2 * 32, JSON.stringify(reuse.stats));
  } finally {
    for (const e of engines) await e.close();
    await Deno.remove(root, { recursive: true });
  }
});
