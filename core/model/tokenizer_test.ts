import assert from "node:assert/strict";
import { join } from "node:path";
import { loadTokenizer } from "./tokenizer.ts";
import { buildTokenizerJson, trainByteLevelBpe } from "./bpe.ts";
import { errorCode } from "../errors.ts";

const TEMPLATE = "{% for m in messages %}<{{ m.role }}>{{ m.content }}</s>{% endfor %}" +
  "{% if add_generation_prompt %}<assistant>{% endif %}";

/** A model dir with a hand-checkable tokenizer: bytes plus merges "aa", "ab", "aaab". */
async function makeDir(config: Record<string, unknown>, extra: Record<string, string> = {}) {
  const dir = await Deno.makeTempDir();
  const bpe = trainByteLevelBpe(["aaab aab"], { vocabSize: 259, minFrequency: 1 });
  const json = buildTokenizerJson(bpe, {
    specialTokens: ["<s>", "</s>", "<pad>"],
    prependToken: "<s>",
  });
  await Deno.writeTextFile(join(dir, "tokenizer.json"), JSON.stringify(json));
  await Deno.writeTextFile(
    join(dir, "tokenizer_config.json"),
    JSON.stringify({
      bos_token: "<s>",
      eos_token: "</s>",
      clean_up_tokenization_spaces: false,
      ...config,
    }),
  );
  for (const [name, text] of Object.entries(extra)) await Deno.writeTextFile(join(dir, name), text);
  return dir;
}

Deno.test("loadTokenizer() encodes, decodes and maps ids like the tokenizer files say", async () => {
  const dir = await makeDir({ pad_token: "<pad>" });
  const tok = await loadTokenizer(dir);
  // ids: bytes 0..255, 256 "aa", 257 "ab", 258 "aaab", 259 <s>, 260 </s>, 261 <pad>.
  assert.deepEqual(tok.encode("aaab aab"), [259, 258, 32, 256, 98]);
  assert.deepEqual(tok.encode("aaab aab", { addSpecialTokens: false }), [258, 32, 256, 98]);
  assert.equal(tok.decode([259, 258, 260]), "<s>aaab</s>");
  assert.equal(tok.decode([259, 258, 260], { skipSpecialTokens: true }), "aaab");
  assert.equal(tok.idToToken(258), "aaab");
  assert.equal(tok.idToToken(32), "Ġ");
  assert.equal(tok.tokenToId("ab"), 257);
  assert.equal(tok.vocabSize, 262);
  assert.equal(tok.bosTokenId, 259);
  assert.equal(tok.padTokenId, 261);
  assert.deepEqual(tok.eosTokenIds, [260]);
  assert.deepEqual(tok.specialTokenIds.sort(), [259, 260, 261]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadTokenizer() merges eos ids from generation_config.json and config.json", async () => {
  const dir = await makeDir({}, {
    "generation_config.json": JSON.stringify({ eos_token_id: [7, 260], pad_token_id: 3 }),
    "config.json": JSON.stringify({ eos_token_id: 9 }),
  });
  const tok = await loadTokenizer(dir);
  assert.deepEqual(tok.eosTokenIds, [7, 260, 9]);
  assert.equal(tok.padTokenId, 3, "no pad_token in tokenizer_config: generation config decides");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadTokenizer() uses chat_template from tokenizer_config.json", async () => {
  const dir = await makeDir({ chat_template: TEMPLATE });
  const tok = await loadTokenizer(dir);
  const msgs = [{ role: "user", content: "aab" }];
  assert.equal(tok.applyChatTemplate(msgs), "<user>aab</s>");
  assert.equal(
    tok.applyChatTemplate(msgs, { addGenerationPrompt: true }),
    "<user>aab</s><assistant>",
  );
  const ids = tok.encodeChat(msgs);
  assert.equal(ids.filter((i) => i === 259).length, 0, "no extra BOS: the template decides");
  assert.equal(ids.at(-1), 260);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadTokenizer() falls back to chat_template.jinja", async () => {
  const dir = await makeDir({}, { "chat_template.jinja": TEMPLATE });
  const tok = await loadTokenizer(dir);
  assert.equal(tok.chatTemplate, TEMPLATE);
  assert.equal(
    tok.applyChatTemplate([{ role: "system", content: "x" }, { role: "user", content: "y" }], {
      addGenerationPrompt: true,
    }),
    "<system>x</s><user>y</s><assistant>",
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadTokenizer() without a chat template throws E_TOKENIZER on apply", async () => {
  const dir = await makeDir({});
  const tok = await loadTokenizer(dir);
  assert.throws(() => tok.applyChatTemplate([{ role: "user", content: "a" }]), (e: Error) => {
    assert.equal(errorCode(e), "E_TOKENIZER");
    assert.ok(e.message.includes("chat_template.jinja"));
    return true;
  });
  assert.equal(
    tok.applyChatTemplate([{ role: "user", content: "a" }], { chatTemplate: TEMPLATE }),
    "<user>a</s>",
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadTokenizer() names a missing tokenizer file and the fix", async () => {
  const dir = await makeDir({});
  await Deno.remove(join(dir, "tokenizer_config.json"));
  await assert.rejects(() => loadTokenizer(dir), (e: Error) => {
    assert.equal(errorCode(e), "E_TOKENIZER");
    assert.ok(e.message.includes(join(dir, "tokenizer_config.json")));
    return true;
  });
  await Deno.writeTextFile(join(dir, "tokenizer_config.json"), "{");
  await Deno.remove(join(dir, "tokenizer.json"));
  await assert.rejects(() => loadTokenizer(dir), /tokenizer\.json does not exist/);
  await Deno.remove(dir, { recursive: true });
});
