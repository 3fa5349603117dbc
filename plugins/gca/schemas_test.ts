import assert from "node:assert/strict";
import { errorCode } from "../../core/errors.ts";
import { parseBook, parseTestRecord, parseTestSet } from "./schemas.ts";

const base = {
  book: "B",
  i_p: 1,
  i_c: 0,
  scenario: "S",
  dialogues: [{ character: "A", message: "Hi" }],
  speaking_characters_w_env: ["A"],
  plot: { summary: "P", key_characters: [{ name: "A", description: "d", summary: "did x" }] },
};

Deno.test("parseTestRecord() takes thought and summary when motivation and experience are absent", () => {
  const r = parseTestRecord({ ...base, key_characters: [{ name: "A", thought: "wants tea" }] });
  assert.equal(r.key_characters[0].motivation, "wants tea");
  assert.equal(r.plot.key_characters[0].experience, "did x");
  assert.deepEqual(r.fields, { motivation: "thought", experience: "summary" });
  assert.deepEqual(r.major_characters, []);
  assert.deepEqual(r.character_profiles, {});
});

Deno.test("parseTestRecord() prefers motivation and experience and keeps provenance on re-parse", () => {
  const r = parseTestRecord({
    ...base,
    key_characters: [{ name: "A", motivation: "m", thought: "t" }],
    plot: { summary: "P", key_characters: [{ name: "A", experience: "e", summary: "s" }] },
  });
  assert.equal(r.key_characters[0].motivation, "m");
  assert.equal(r.plot.key_characters[0].experience, "e");
  assert.deepEqual(r.fields, { motivation: "motivation", experience: "experience" });
  const once = parseTestRecord({ ...base, key_characters: [{ name: "A", thought: "t" }] });
  assert.deepEqual(parseTestRecord(once).fields, { motivation: "thought", experience: "summary" });
});

Deno.test("parseTestRecord() rejects a record without dialogues, naming the field", () => {
  assert.throws(() => parseTestRecord({ ...base, dialogues: [] }), (e: unknown) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /^test record is malformed: dialogues: /);
    assert.equal(errorCode(e), "E_DATA");
    return true;
  });
  assert.throws(
    () => parseTestSet([base, { ...base, i_p: -1 }]),
    /test record 1 is malformed: i_p/,
  );
});

Deno.test("parseBook() normalises fields and defaults split_plot_index to floor(0.9 n)", () => {
  const plots = Array.from({ length: 11 }, (_, i) => ({
    text: `t${i}`,
    summary: `s${i}`,
    key_characters: [{ name: "A", summary: "x" }],
    conversation: [{
      scenario: "sc",
      key_characters: [{ name: "A", thought: "go" }],
      dialogues: [],
    }],
  }));
  const b = parseBook({ plots });
  assert.equal(b.split_plot_index, 9);
  assert.equal(b.plots[0].key_characters[0].experience, "x");
  assert.equal(b.plots[0].conversation[0].key_characters[0].motivation, "go");
  assert.deepEqual(b.fields, { motivation: "thought", experience: "summary" });
  assert.equal(parseBook({ plots, split_plot_index: 4 }).split_plot_index, 4);
  assert.throws(() => parseBook({ plots: "none" }), /book is malformed: plots/);
});
