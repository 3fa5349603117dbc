import assert from "node:assert/strict";
import { PluginRegistry } from "../../mod.ts";
import { judgeConformance } from "../../tests/conformance/judge.ts";
import plugin, { LexiconJudgeOptions, makeValenceJudge } from "./mod.ts";

Deno.test("lexicon_judge valence judge passes the Judge conformance suite", async (t) => {
  const judge = await makeValenceJudge(LexiconJudgeOptions.parse({}));
  await judgeConformance(t, {
    judge,
    inputs: ["What a wonderful day", "This is a terrible idea", {
      turns: [{ speaker: "a", text: "I love it" }, { speaker: "b", text: "I hate it" }],
    }],
    unscorable: ["", "!!! 123"],
  });
});

Deno.test("lexicon_judge scores transcripts per speaker", async () => {
  const judge = await makeValenceJudge(LexiconJudgeOptions.parse({}));
  const v = await judge.judge({
    turns: [{ speaker: "ann", text: "wonderful" }, { speaker: "bob", text: "awful" }],
  }, {});
  assert.ok(v.value!.by_speaker!.ann > 0);
  assert.ok(v.value!.by_speaker!.bob < 0);
});

Deno.test("lexicon_judge loads through the registry and honours extra_valences", async () => {
  const registry = new PluginRegistry();
  registry.register(plugin, "example");
  const roles = await registry.instantiate("lexicon_judge", { extra_valences: { zorp: 4 } });
  const v = await roles.judges!.valence.judge("zorp", {});
  assert.ok(v.value.score > 0);
  await assert.rejects(
    () => registry.instantiate("lexicon_judge", { window: 9 }),
    /option 'window' is 9/,
  );
});
