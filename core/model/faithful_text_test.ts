import assert from "node:assert/strict";
import { errorCode } from "../errors.ts";
import { Engine } from "./engine.ts";
import { createRealTokenizerModel } from "./real_presets.ts";
import { rigNextTokens } from "./testing/rig.ts";
import { createTinyModel } from "./tiny.ts";

async function withModel(
  make: (dir: string) => Promise<void>,
  fn: (engine: Engine) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "dramatis_faithful_" });
  try {
    await make(`${root}/m`);
    const engine = await Engine.load(`${root}/m`, { threads: 1, cacheDir: `${root}/cache` });
    try {
      await fn(engine);
    } finally {
      await engine.close();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** A tiny model with Llama-2's tokenizer in `root/m`, and that tokenizer. */
async function llama2Model(root: string) {
  const dir = `${root}/m`;
  await createRealTokenizerModel(dir, { preset: "tiny-llama2-chat" });
  const probe = await Engine.load(dir, { threads: 1, cacheDir: `${root}/cache` });
  const tok = probe.tokenizer;
  await probe.close();
  return { dir, tok };
}

Deno.test("Engine.generate() releases an incomplete UTF-8 tail as decode spells it (U+FFFD)", async () => {
  await withModel(async (dir) => {
    await createRealTokenizerModel(dir, { preset: "tiny-llama2-chat" });
    // Token 222 is the byte-fallback piece <0xDB>: a UTF-8 lead byte that never completes.
    await rigNextTokens(dir, [{ from: "*", to: 222 }]);
  }, async (engine) => {
    assert.equal(engine.tokenizer.idToToken(222), "<0xDB>");
    const r = await engine.generate("Hi", { temperature: 0, maxNewTokens: 12 });
    const c = r.completions[0];
    assert.deepEqual(c.tokens, new Array(12).fill(222));
    const oracle = engine.tokenizer.decode(c.tokens, { skipSpecialTokens: true });
    assert.ok(oracle.length > 0 && /^\uFFFD+$/.test(oracle), JSON.stringify(oracle));
    assert.equal(c.text, oracle);
    // Streaming gives the same text.
    let streamed = "";
    for await (const ev of engine.stream("Hi", { temperature: 0, maxNewTokens: 12 })) {
      if (ev.type === "delta" || ev.type === "finish") streamed += ev.text;
    }
    assert.equal(streamed, oracle);
  });
});

Deno.test("Engine.generate() keeps the leading space of ▁ tokens in continuations and logprobs", async () => {
  const root = await Deno.makeTempDir({ prefix: "dramatis_faithful_" });
  try {
    const { dir, tok } = await llama2Model(root);
    const prompt = tok.encode("Once upon a time");
    const [they, saw] = tok.encode("They saw", { addSpecialTokens: false });
    const space = tok.tokenToId("\u2581")!;
    assert.equal(tok.idToToken(they), "\u2581They");
    const chat = tok.encodeChat([{ role: "user", content: "Hi" }], { addGenerationPrompt: true });
    assert.equal(tok.idToToken(chat[chat.length - 1]), "]"); // "… [/INST]"
    await rigNextTokens(dir, [
      { from: chat[chat.length - 1], to: they },
      { from: prompt[prompt.length - 1], to: they },
      { from: they, to: saw },
      { from: saw, to: space },
      { from: space, to: 2 },
    ]);
    const engine = await Engine.load(dir, { threads: 1, cacheDir: `${root}/cache` });
    try {
      const r = await engine.generate("Once upon a time", {
        temperature: 0,
        maxNewTokens: 8,
        logprobs: true,
        topLogprobs: 2,
      });
      const c = r.completions[0];
      assert.deepEqual(c.tokens, [they, saw, space]);
      assert.equal(c.text, " They saw ");
      assert.deepEqual(c.logprobs!.map((l) => l.token), [" They", " saw", " ", "</s>"]);
      assert.equal(c.finishReason, "stop");
      // A chat reply is decoded as a whole, as transformers does: the template's space goes.
      const reply = await engine.generate([{ role: "user", content: "Hi" }], {
        temperature: 0,
        maxNewTokens: 8,
      });
      assert.deepEqual(reply.completions[0].tokens, [they, saw, space]);
      assert.equal(reply.completions[0].text, "They saw ");
    } finally {
      await engine.close();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("Engine.generate() stops at max_position_embeddings with a notice; longer prompts are an error", async () => {
  await withModel(async (dir) => {
    await createTinyModel(dir, { preset: "tiny-llama", seed: 3, maxPositionEmbeddings: 12 });
  }, async (engine) => {
    const prompt = [5, 6, 7, 8, 9];
    const r = await engine.generate({ inputIds: [prompt] }, {
      temperature: 0,
      maxNewTokens: 50,
      eosTokenIds: [],
    });
    const c = r.completions[0];
    assert.equal(prompt.length + c.tokens.length, 12);
    assert.equal(c.finishReason, "length");
    assert.match(c.notice!, /max_position_embeddings = 12/);
    // A prompt that fills the window leaves no room; forward passes may use all of it.
    const full = Array.from({ length: 12 }, (_, i) => 5 + i);
    await assert.rejects(
      engine.generate({ inputIds: [full] }, { maxNewTokens: 1 }),
      (e: Error) => errorCode(e) === "E_LIMIT" && /max_position_embeddings is 12/.test(e.message),
    );
    await engine.forward([full]);
    await assert.rejects(
      engine.forward([[...full, 5]]),
      (e: Error) => errorCode(e) === "E_LIMIT",
    );
  });
});

Deno.test("Engine.generate() spells a long completion as decoding all its tokens does", async () => {
  // 150 tokens cycling through ▁-words, the two byte pieces of "é" and a comma: the text is
  // decoded in a window (SpelledText), cut only where that cannot change it.
  const root = await Deno.makeTempDir({ prefix: "dramatis_faithful_" });
  try {
    const { dir, tok } = await llama2Model(root);
    const [they, saw] = tok.encode("They saw", { addSpecialTokens: false });
    const [c3, a9, comma] = [
      tok.tokenToId("<0xC3>")!,
      tok.tokenToId("<0xA9>")!,
      tok.tokenToId(",")!,
    ];
    const prompt = tok.encode("Once upon a time");
    const chat = tok.encodeChat([{ role: "user", content: "Hi" }], { addGenerationPrompt: true });
    const cycle = [they, saw, c3, a9, comma];
    await rigNextTokens(dir, [
      { from: prompt[prompt.length - 1], to: they },
      { from: chat[chat.length - 1], to: they },
      ...cycle.map((from, i) => ({ from, to: cycle[(i + 1) % cycle.length] })),
    ]);
    const engine = await Engine.load(dir, { threads: 1, cacheDir: `${root}/cache` });
    try {
      for (
        const [input, inContext] of [["Once upon a time", true], [
          [{ role: "user", content: "Hi" }],
          false,
        ]] as const
      ) {
        const r = await engine.generate(input as never, { temperature: 0, maxNewTokens: 150 });
        const c = r.completions[0];
        assert.equal(c.tokens.length, 150);
        const whole = tok.decode(c.tokens);
        // A continuation keeps the first token's space; a chat reply is decoded as a document.
        assert.equal(c.text, inContext ? ` ${whole}` : whole);
        assert.ok(c.text.includes("They sawé, They"), c.text.slice(0, 40));
        let streamed = "";
        for await (
          const ev of engine.stream(input as never, { temperature: 0, maxNewTokens: 150 })
        ) {
          if (ev.type === "delta" || ev.type === "finish") streamed += ev.text;
        }
        assert.equal(streamed, c.text);
      }
    } finally {
      await engine.close();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
