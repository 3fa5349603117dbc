import assert from "node:assert/strict";
import { bandwagonJudge, jungJudge, questionnaireJudge, trialsFromReplies } from "./judges.ts";
import type { JungItem } from "./jung_assessment.ts";
import { TRIALS } from "./bandwagon.ts";

Deno.test("questionnaireJudge() scores a reply and returns null when no letter can be read", async () => {
  const judge = questionnaireJudge();
  const item = {
    type: "Multiple_choices" as const,
    question: "Hobbies?",
    options: ["A. a", "B. b", "C. c", "D. d", "E. e", "F. f"],
    answer: ["A", "C", "E"],
  };
  const v = await judge.judge({ item, reply: "The answer is A, C and B." }, {});
  assert.deepEqual(v.value, {
    type: "Multiple_choices",
    parsed: ["A", "C", "B"],
    points: 2,
    max: 6,
  });
  judge.schema.parse(v.value);
  const bad = await judge.judge({ item, reply: "pottery, mostly" }, {});
  assert.equal(bad.value, null);
  assert.match(bad.reason!, /no standalone letter/);
});

Deno.test("jungJudge() gives τ = 1 when agreement follows the true stack, null when all tie", async () => {
  const stack = ["Si", "Fe", "Ti", "Ne", "Se", "Fi", "Te", "Ni"] as const;
  // one item per function with a positive score; the strongest function gets the largest
  const items: JungItem[] = stack.map((f, p) => ({
    type: "Jung_cognitive_function_test",
    question: `s${p}`,
    function: f,
    score: 8 - p,
    answer: [f, 8 - p],
  }));
  const judge = jungJudge();
  const v = await judge.judge({ items, replies: items.map(() => "Yes."), stack: [...stack] }, {});
  assert.equal(v.value!.kendall_tau, 1);
  assert.deepEqual(v.value!.predicted_stack, [...stack]);
  assert.equal(v.value!.agreed, 8);
  const none = await judge.judge({ items, replies: items.map(() => "No."), stack: [...stack] }, {});
  assert.equal(none.value, null);
});

Deno.test("bandwagonJudge() rates conformity on critical trials against control", async () => {
  // under pressure always the group's line; in control always the correct one
  const pressure = TRIALS.map((t) => `Line ${t[5]}`);
  const control = TRIALS.map((t) => `Line ${t[4]}`);
  const v = await bandwagonJudge().judge({ group_pressure: pressure, control }, {});
  assert.deepEqual(v.value, {
    conformity_rate: 1,
    control_error_rate: 0,
    control_same_line_rate: 0,
    effect: 1,
    unanswered: { group_pressure: 0, control: 0 },
  });
  const silent = await bandwagonJudge().judge({
    group_pressure: TRIALS.map(() => "hmm"),
    control,
  }, {});
  assert.equal(silent.value, null);
  assert.throws(() => trialsFromReplies(["1"]), RangeError);
});
