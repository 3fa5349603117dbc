import assert from "node:assert/strict";
import { commandContext } from "../../../core/services/plugin_context.ts";
import { join } from "node:path";
import { parseArgs } from "../../../core/host/args.ts";
import { readHumanEvalSet } from "../../../core/human_eval/key.ts";
import { humanEvalSetCommand } from "./human_eval_command.ts";

Deno.test("hirpf human-eval-set turns situational outcomes into identity items with truth and judge slots", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const situations = join(dir, "situations.json");
    await Deno.writeTextFile(
      situations,
      JSON.stringify({
        accuracy: [],
        outcomes: [
          {
            identities: ["EXT_high", "Doctor"],
            test: "EXT",
            transcript: [{ speaker: "npc", text: "Hi" }, { speaker: "agent", text: "Hello!" }],
            guess: {
              AGR: null,
              CON: null,
              EXT: "high",
              NEU: null,
              OPE: null,
              Profession: "Artist",
            },
          },
          {
            identities: ["AGR_low"],
            test: "AGR",
            transcript: [{ speaker: "npc", text: "Help?" }, { speaker: "agent", text: "No." }],
            guess: null,
          },
        ],
      }),
    );
    const out = join(dir, "set.json");
    const cmd = humanEvalSetCommand();
    const args = parseArgs(["--situations", situations, "--out", out], cmd.flags!, "t");
    const log = console.log;
    console.log = () => {};
    try {
      await cmd.run(args, commandContext());
    } finally {
      console.log = log;
    }
    const set = await readHumanEvalSet(out);
    assert.equal(set.task, "identity");
    assert.deepEqual(set.questions.map((q) => q.id), [
      "AGR",
      "CON",
      "EXT",
      "NEU",
      "OPE",
      "Profession",
    ]);
    assert.deepEqual(set.items[0].truth, {
      AGR: "none",
      CON: "none",
      EXT: "high",
      NEU: "none",
      OPE: "none",
      Profession: "Doctor",
    });
    assert.equal(set.items[0].judge!.Profession, "Artist");
    assert.deepEqual(set.items[0].turns!.map((t) => t.speaker), ["X", "Y"]);
    assert.ok(set.items[0].text!.startsWith("Scenario: "));
    assert.equal(set.items[1].judge, undefined, "a failed judge gives no judge answer");
    assert.equal(set.items[1].truth!.AGR, "low");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
