import assert from "node:assert/strict";
import { Prng } from "../../../core/util/prng.ts";
import { loadHisDataset } from "../his_dataset.ts";
import { allIdentities } from "../identities.ts";
import { composeReplies, makeDialogues, toJsonLines } from "./make_dialogues.ts";
import { TOPICS } from "./phrase_bank.ts";

const dir = new URL("../data/dialogues/", import.meta.url).pathname;

Deno.test("makeDialogues() reproduces the shipped files exactly", async () => {
  const { train, test } = makeDialogues();
  // Compared as JSON so that formatting (deno fmt) does not matter.
  assert.deepEqual(
    JSON.parse(await Deno.readTextFile(dir + "train.json")),
    JSON.parse(toJsonLines(train)),
  );
  assert.deepEqual(
    JSON.parse(await Deno.readTextFile(dir + "test.json")),
    JSON.parse(toJsonLines(test)),
  );
});

Deno.test("shipped dialogues validate and cover every identity alone and combined", async () => {
  for (const [file, min] of [["train.json", 200], ["test.json", 40]] as const) {
    const recs = await loadHisDataset(dir + file);
    assert.ok(recs.length >= min, `${file} has ${recs.length} records`);
    for (const id of allIdentities()) {
      assert.ok(
        recs.some((r) => r.identities.length === 1 && r.identities[0] === id),
        `${file}: ${id} alone`,
      );
      assert.ok(
        recs.some((r) => r.identities.length > 1 && r.identities.includes(id)),
        `${file}: ${id} combined`,
      );
    }
  }
});

Deno.test("composeReplies() uses contrasting wording for opposite polarities", () => {
  const hi = composeReplies(["EXT_high"], TOPICS[0], new Prng(3));
  const lo = composeReplies(["EXT_low"], TOPICS[0], new Prng(3));
  assert.match(hi[0], /!/);
  assert.doesNotMatch(lo[0], /!/);
  const both = composeReplies(["Doctor", "CON_high"], TOPICS[1], new Prng(1))[0];
  assert.match(both, /^(Speaking as a doctor|From a medical point of view|Clinically speaking),/);
  assert.ok(both.includes("my birthday"));
});
