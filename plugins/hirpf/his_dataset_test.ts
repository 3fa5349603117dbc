import assert from "node:assert/strict";
import { errorCode } from "../../core/errors.ts";
import { llama2TrainingSegments } from "./chat_format.ts";
import { parseHisDataset, validateIdentityLabels } from "./his_dataset.ts";
import { DEFAULT_PROMPT_TEMPLATES } from "./system_prompt.ts";

const pair = [{ role: "user", content: "Hi there" }, { role: "assistant", content: "Hello." }];

Deno.test("parseHisDataset() maps EMS to NEU and keeps the data's wording", () => {
  const [r] = parseHisDataset([{ dialog: pair, active_adapters: ["EMS_high", "Doctor"] }]);
  assert.deepEqual(r.identities, ["NEU_low", "Doctor"]);
  assert.deepEqual(r.labels, ["EMS_high", "Doctor"]);
  assert.equal(
    r.system,
    "You are a doctor with high emotional stability. " + DEFAULT_PROMPT_TEMPLATES.closing.both,
  );
  assert.equal(r.systemFromData, false);
});

Deno.test("parseHisDataset() uses a leading system turn when present", () => {
  const [r] = parseHisDataset([{
    dialog: [{ role: "system", content: "Be a cat." }, ...pair],
    active_adapters: [],
  }]);
  assert.equal(r.system, "Be a cat.");
  assert.equal(r.systemFromData, true);
  assert.equal(r.turns.length, 2);
});

Deno.test("parseHisDataset() names the record index and the broken rule", () => {
  const bad = (labels: string[]) => () =>
    parseHisDataset([{ dialog: pair, active_adapters: [] }, {
      dialog: pair,
      active_adapters: labels,
    }], {
      source: "t.json",
    });
  assert.throws(
    bad(["Doctor", "Artist"]),
    /t\.json record 1: .*two professions \(Doctor, Artist\).*at most one profession/,
  );
  assert.throws(
    bad(["EMS_high", "NEU_high"]),
    /record 1: .*two labels for factor NEU \(EMS_high, NEU_high\)/,
  );
  assert.throws(
    bad(["AGR_high", "CON_high", "EXT_high", "NEU_high", "OPE_high", "Doctor", "Artist"]),
    /record 1: active_adapters has 7 identities.*at most 6/,
  );
  assert.throws(bad(["AGR_medium"]), /record 1: active_adapters has unknown identity "AGR_medium"/);
  try {
    bad(["Doctor", "Artist"])();
  } catch (e) {
    assert.equal(errorCode(e), "E_DATA");
  }
});

Deno.test("parseHisDataset() requires strict user/assistant alternation", () => {
  assert.throws(
    () => parseHisDataset([{ dialog: [pair[1]], active_adapters: [] }]),
    /record 0: dialog\[0\]\.role is "assistant".*"user" was expected/,
  );
  assert.throws(
    () =>
      parseHisDataset([{
        dialog: [...pair, { role: "system", content: "x" }],
        active_adapters: [],
      }]),
    /dialog\[2\] is a system turn/,
  );
  assert.throws(() => parseHisDataset({}), /expected a JSON array/);
});

Deno.test("validateIdentityLabels() accepts up to six legal identities", () => {
  assert.deepEqual(
    validateIdentityLabels(["AGR_low", "CON_high", "EXT_low", "EMS_low", "OPE_high", "Artist"]),
    ["AGR_low", "CON_high", "EXT_low", "NEU_high", "OPE_high", "Artist"],
  );
});

Deno.test("llama2TrainingSegments() masks users and drops a trailing user turn", () => {
  const segs = llama2TrainingSegments({
    system: "S",
    turns: [
      { role: "user", content: " a " },
      { role: "assistant", content: "b " },
      { role: "user", content: "c" },
      { role: "assistant", content: "d" },
      { role: "user", content: "dangling" },
    ],
  });
  assert.deepEqual(segs, [
    { text: "<s>[INST] <<SYS>> S <</SYS>> a [/INST]", loss: false },
    { text: "b </s>", loss: true },
    { text: "<s>[INST] c [/INST]", loss: false },
    { text: "d </s>", loss: true },
  ]);
});
