import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { loadHisConversationsReport } from "./his_conversations.ts";
import { errorCode } from "../../core/errors.ts";
import { llama2TrainingSegments } from "./chat_format.ts";
import { parseHisDataset, parseHisDatasetReport, validateIdentityLabels } from "./his_dataset.ts";
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
    /t\.json:1: record 1: .*two professions \(Doctor, Artist\).*at most one profession/,
  );
  assert.throws(
    bad(["EMS_high", "NEU_high"]),
    /record 1: .*two labels for factor NEU \(EMS_high, NEU_high\)/,
  );
  // Without strict, a contradictory record is skipped with its index, line and reason code.
  const report = parseHisDatasetReport([{ dialog: pair, active_adapters: ["Doctor"] }, {
    dialog: pair,
    active_adapters: ["CON_high", "CON_low"],
  }], { source: "t.json", lines: [2, 7] });
  assert.equal(report.records.length, 1);
  assert.equal(report.records[0].index, 0);
  assert.deepEqual(report.skipped.map((k) => [k.source, k.code]), [
    [{ file: "t.json", line: 7, record: 1 }, "contradictory_labels"],
  ]);
  assert.match(report.skipped[0].reason, /two labels for factor CON \(CON_high, CON_low\)/);
  assert.throws(
    () =>
      parseHisDatasetReport([{ dialog: pair, active_adapters: ["CON_high", "CON_low"] }], {
        source: "t.json",
        strict: true,
      }),
    /t\.json:1: record 0: .*two labels for factor CON/,
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

const HIS_TEST = new URL("../../../shared/upstream/his/data/test.json", import.meta.url);

Deno.test({
  name:
    "loadHisConversationsReport() reads HIS's released test.json: 10 contradictory records skipped",
  ignore: !existsSync(HIS_TEST),
  async fn() {
    const d = await loadHisConversationsReport(HIS_TEST.pathname);
    assert.deepEqual(
      d.skipped.map((k) => k.source.record),
      [120, 139, 193, 240, 310, 361, 362, 392, 416, 467],
    );
    assert.ok(d.skipped.every((k) => k.code === "contradictory_labels"));
    assert.match(d.skipped[0].reason, /two labels for factor NEU \(EMS_high, EMS_low\)/);
    assert.equal(d.conversations.length, 675);
    // 248 of the 685 dialogues end on a user turn; the trimmed ones among the 675 kept are counted.
    const raw = JSON.parse(await Deno.readTextFile(HIS_TEST)) as { dialog: { role: string }[] }[];
    const skippedSet = new Set(d.skipped.map((k) => k.source.record));
    const expectTrimmed = raw.filter((r, i) =>
      !skippedSet.has(i) && r.dialog.at(-1)?.role === "user"
    );
    assert.equal(d.trimmed.length, expectTrimmed.length);
    assert.ok(d.conversations.every((c) => c.messages.at(-1)?.role === "assistant"));
    // Record lines point at the record's opening brace in the file.
    const lines = (await Deno.readTextFile(HIS_TEST)).split("\n");
    assert.match(lines[d.skipped[0].source.line - 1], /\{/);
    await assert.rejects(
      () => loadHisConversationsReport(HIS_TEST.pathname, { strict: true }),
      /test\.json:\d+: record 120: active_adapters has two labels for factor NEU/,
    );
  },
});
if (!existsSync(HIS_TEST)) {
  console.warn(`skipped: ${HIS_TEST.pathname} is absent (../shared/upstream)`);
}
