import assert from "node:assert/strict";
import { runBytes } from "./automaton.ts";
import { compileChoices, compileRegex } from "./byte_dfa.ts";
import { JsonObjectAutomaton } from "./json_object.ts";
import { sampleRandom, tinyLlama } from "./testing.ts";
import { TokenConstraint } from "./token_constraint.ts";
import { tokenTable, walkTokens } from "./token_table.ts";

Deno.test("tokenTable() reads byte-level tokens as the bytes the tokenizer decodes them to", async () => {
  const { tokenizer } = await tinyLlama();
  const table = tokenTable(tokenizer);
  assert.equal(table.scheme, "byte-level");
  assert.equal(table.coversAllBytes, true);
  assert.equal(table.stripsLeadingSpace, false);
  assert.strictEqual(tokenTable(tokenizer), table); // cached
  const fatal = new TextDecoder("utf-8", { fatal: true });
  let partial = 0;
  for (let id = 0; id < tokenizer.vocabSize; id++) {
    const bs = table.bytes[id];
    if (tokenizer.specialTokenIds.includes(id)) {
      assert.equal(bs, null);
      continue;
    }
    assert.ok(bs && bs.length > 0, `token ${id}`);
    try {
      assert.equal(fatal.decode(bs), tokenizer.decode([id]), `token ${id}`);
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      partial++; // a partial UTF-8 sequence, e.g. the lone byte 0xC3
    }
  }
  assert.ok(partial >= 64, "single high bytes are partial sequences");
  // bytes of a text's tokens concatenate to the text's UTF-8
  const text = "Once upon a time, naïve €";
  const ids = tokenizer.encode(text, { addSpecialTokens: false });
  const joined = ids.flatMap((id) => [...table.bytes[id]!]);
  assert.deepEqual(joined, [...new TextEncoder().encode(text)]);
});

Deno.test("walkTokens() finds exactly the tokens a brute-force run allows, with their states", async () => {
  const { tokenizer } = await tinyLlama();
  const table = tokenTable(tokenizer);
  const dfa = compileRegex("(the|a) (cat|dog)s?\\.|é+|[0-9]{1,3}");
  const json = new JsonObjectAutomaton();
  const enc = new TextEncoder();
  const cases: [typeof dfa | typeof json, string][] = [
    [dfa, ""],
    [dfa, "the"],
    [dfa, "a c"],
    [dfa, "é"],
    [dfa, "1"],
    [json, ""],
    [json, '{"a":'],
    [json, '{"a":"x'],
    [json, '{"k":[1,{}'],
  ];
  for (const [a, prefix] of cases) {
    // deno-lint-ignore no-explicit-any
    const auto = a as any;
    const start = runBytes(auto, auto.start, enc.encode(prefix));
    assert.notEqual(start, null, prefix);
    const seen = new Map<number, string>();
    walkTokens(table, auto, start, (id, next) => seen.set(id, JSON.stringify(next)));
    const want = new Map<number, string>();
    table.bytes.forEach((bs, id) => {
      if (!bs) return;
      const next = runBytes(auto, start, bs);
      if (next !== null) want.set(id, JSON.stringify(next));
    });
    assert.deepEqual(
      [...seen].sort((x, y) => x[0] - y[0]),
      [...want].sort((x, y) => x[0] - y[0]),
      prefix,
    );
  }
});

/** A SentencePiece-style vocabulary: 256 byte-fallback tokens, pieces with ▁, special 0..2. */
function sentencePieceSource() {
  const pieces = ["<unk>", "<s>", "</s>"];
  for (let b = 0; b < 256; b++) pieces.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
  pieces.push("▁yes", "▁no", "yes", "no", "▁", "▁y", "es", "▁n", "o");
  const bytesOf = (p: string): number[] => {
    const m = /^<0x([0-9A-F]{2})>$/.exec(p);
    return m ? [parseInt(m[1], 16)] : [...new TextEncoder().encode(p.replaceAll("▁", " "))];
  };
  const decode = (ids: readonly number[], o: { skipSpecialTokens?: boolean } = {}) => {
    const bytes = ids.filter((id) => !(o.skipSpecialTokens && id < 3)).flatMap((id) =>
      bytesOf(pieces[id])
    );
    const text = new TextDecoder().decode(Uint8Array.from(bytes));
    return text.startsWith(" ") ? text.slice(1) : text;
  };
  return {
    vocabSize: pieces.length,
    specialTokenIds: [0, 1, 2],
    eosTokenIds: [2],
    idToToken: (id: number) => pieces[id],
    decode,
    raw: {
      _tokenizerJSON: {
        decoder: {
          type: "Sequence",
          decoders: [
            { type: "Replace", pattern: { String: "▁" }, content: " " },
            { type: "ByteFallback" },
            { type: "Fuse" },
            { type: "Strip", content: " ", start: 1, stop: 0 },
          ],
        },
        added_tokens: [0, 1, 2].map((id) => ({ id, content: pieces[id], special: true })),
      },
    },
    pieces,
  };
}

Deno.test("tokenTable() reads SentencePiece pieces and the first token's stripped space", () => {
  const src = sentencePieceSource();
  const table = tokenTable(src);
  assert.equal(table.scheme, "sentencepiece");
  assert.equal(table.stripsLeadingSpace, true);
  assert.equal(table.coversAllBytes, true);
  assert.deepEqual([...table.bytes[src.pieces.indexOf("▁yes")]!], [0x20, 0x79, 0x65, 0x73]);
  assert.deepEqual([...table.bytes[3 + 0xc3]!], [0xc3]);
  const c = new TokenConstraint(compileChoices(["yes", "no", "no yes"]), table, {
    maxTokens: 6,
    eosTokenIds: [2],
  });
  const first = [...c.allowedAt([])].map((id) => src.pieces[id]);
  assert.ok(first.includes("▁yes") && first.includes("yes") && !first.includes("▁"), `${first}`);
  for (let t = 0; t < 100; t++) {
    const s = sampleRandom(c.allowedTokens, {
      vocabSize: src.vocabSize,
      eos: [2],
      maxTokens: 6,
      seed: t,
      row: 0,
    });
    assert.ok(["yes", "no", "no yes"].includes(src.decode(s.tokens)), src.decode(s.tokens));
  }
});
