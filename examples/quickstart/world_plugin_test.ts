import assert from "node:assert/strict";
import { join } from "node:path";
import { judgeConformance } from "../../tests/conformance/judge.ts";
import { formatCsv, parseCsv } from "./csv.ts";
import { labelRollouts, worldJudge } from "./world_plugin.ts";

Deno.test("persona_world traits judge passes the Judge conformance suite", async (t) => {
  await judgeConformance(t, {
    judge: worldJudge(),
    inputs: [
      "I stay calm. It looks bright.",
      { prompt: "q", response: "I love a crowd." },
      {
        turns: [{ speaker: "inquirer", text: "Hi" }, {
          speaker: "responder",
          text: "I get scared.",
        }],
      },
    ],
    unscorable: ["", "!!! 123"],
  });
});

Deno.test("the traits judge reads only the responder's turns of a transcript", async () => {
  const v = await worldJudge().judge({
    turns: [
      { speaker: "inquirer", text: "It looks grim." },
      { speaker: "responder", text: "It looks bright. I love a crowd." },
    ],
  }, {});
  assert.equal(v.value?.optimistic, 1);
  assert.equal(v.value?.pessimistic, 0);
  assert.equal(v.value?.EXT_high, 1);
});

Deno.test("CSV round trip keeps quotes, commas and newlines", () => {
  const rows = [["a", "b"], ['say "hi", then\nleave', ""], ["x", "y"]];
  assert.deepEqual(parseCsv(formatCsv(rows)), rows);
  assert.throws(() => parseCsv('a,"b'), /quoted/);
});

Deno.test("label-rollouts fills the trait and coherence columns from the ground truth", async () => {
  const dir = await Deno.makeTempDir({ prefix: "world_label_" });
  try {
    const file = join(dir, "optimistic_pos.csv");
    await Deno.writeTextFile(
      file,
      formatCsv([
        ["question", "prompt", "answer", "optimistic", "coherence"],
        ["q1", 'sys,\n"p"', "It looks bright. I stay calm.", "", ""],
        ["q2", "p", "It looks grim. blah blah.", "", ""],
      ]),
    );
    const [r] = await labelRollouts([file], "optimistic", join(dir, "out"));
    assert.equal(r.rows, 2);
    assert.equal(r.with_trait, 1);
    const [header, a, b] = parseCsv(await Deno.readTextFile(r.out));
    const t = header.indexOf("optimistic");
    const c = header.indexOf("coherence");
    assert.deepEqual([a[t], a[c], b[t], b[c]], ["100", "100", "0", "50"]);
    assert.equal(a[1], 'sys,\n"p"', "other fields are kept");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
