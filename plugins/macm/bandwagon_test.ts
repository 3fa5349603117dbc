import assert from "node:assert/strict";
import { FnModel, testProfile } from "./testing/fixtures.ts";
import {
  conformityEffect,
  extractLineAnswer,
  runBandwagon,
  summarizeTrials,
  trialPrompt,
  TRIALS,
} from "./bandwagon.ts";
import { Simulacrum } from "./simulacrum.ts";

const profile = testProfile;

Deno.test("TRIALS has 6 neutral and 12 critical trials", () => {
  assert.equal(TRIALS.length, 18);
  assert.equal(TRIALS.filter((t) => t[4] !== t[5]).length, 12);
  for (const t of TRIALS) assert.equal(t[t[4]], t[0], "the correct line equals the standard");
});

Deno.test("extractLineAnswer() reads the line the reply asserts, not the first digit", () => {
  assert.equal(extractLineAnswer("Line 3, obviously."), 3);
  assert.equal(extractLineAnswer("I say 2"), 2);
  // Restating a line's length is not choosing it (the old first-digit rule read 1 here).
  assert.equal(extractLineAnswer("The standard is 10 inches and line 1 is 8.75, so 2."), 2);
  assert.equal(
    extractLineAnswer(
      "Line 1 is 6.25 inches, line 2 is 8 inches and line 3 is 10 inches. Line 3 matches the standard.",
    ),
    3,
  );
  assert.equal(extractLineAnswer("Line 2, not line 1."), 2);
  assert.equal(extractLineAnswer("8.75 or 10? line 2"), 2);
  assert.equal(extractLineAnswer("1.5 inches is line 3"), 3);
  assert.equal(extractLineAnswer("The second line."), 2);
  assert.equal(extractLineAnswer("It is 3 inches long, the first one."), 1);
  assert.equal(extractLineAnswer("Line 4?"), null);
  // Several lines asserted, or only lengths: no answer (a counted parse failure, not a guess).
  assert.equal(extractLineAnswer("Line 1 or line 2, I cannot decide."), null);
  assert.equal(extractLineAnswer("Line 1 is 6.25 inches and line 2 is 8 inches."), null);
  assert.equal(extractLineAnswer("the one in the middle"), null);
});

Deno.test("trialPrompt() shows the group's answers only under pressure", () => {
  const p = trialPrompt(3, TRIALS[2], "group_pressure");
  assert.equal(p.match(/"Line 1"/g)?.length, 6);
  assert.ok(p.includes("line 3 is 3 inches"));
  assert.ok(!trialPrompt(3, TRIALS[2], "control").includes('"Line'));
});

Deno.test("summarizeTrials() counts conformity on critical trials only", () => {
  const s = summarizeTrials([
    { i: 1, correct: 2, group: 2, answer_raw: "", answer: 2, critical: false },
    { i: 2, correct: 1, group: 3, answer_raw: "", answer: 3, critical: true },
    { i: 3, correct: 1, group: 3, answer_raw: "", answer: 2, critical: true },
    { i: 4, correct: 1, group: 3, answer_raw: "", answer: 1, critical: true },
    { i: 5, correct: 1, group: 3, answer_raw: "", answer: null, critical: true },
  ]);
  assert.deepEqual(s, {
    critical_trials: 4,
    conformed: 1,
    errors: 2,
    unanswered: 1,
    conformity_rate: 0.25,
    error_rate: 0.5,
  });
});

Deno.test("runBandwagon() runs 18 trials in one conversation and measures conformity", async () => {
  // follows the group when it hears one, else answers the correct line
  const follower = new FnModel("sim", (r) => {
    const last = r.messages.at(-1)!.content;
    const g = last.match(/"Line (\d)"/);
    if (g) return `Line ${g[1]}.`;
    const m = last.match(/standard line is ([\d.]+) inches/);
    if (!m) return "Understood.";
    const lens = [...last.matchAll(/[Ll]ine (\d) is ([\d.]+) inches/g)];
    return `Line ${lens.find((x) => x[2] === m[1])![1]}`;
  });
  const s = new Simulacrum({
    method: "prompt",
    character: { profile, biography: "Born." },
    simulacrum: follower,
  });
  const pressure = await runBandwagon(s, "group_pressure");
  const control = await runBandwagon(s, "control");
  assert.equal(pressure.trials.length, 18);
  assert.equal(pressure.conformed, 12);
  assert.equal(pressure.conformity_rate, 1);
  assert.equal(control.error_rate, 0);
  assert.deepEqual(conformityEffect(pressure, control), {
    conformity_rate: 1,
    control_error_rate: 0,
    control_same_line_rate: 0,
    effect: 1,
  });
  // the last trial sees the framing and 17 earlier trials as user/assistant turns
  const last = follower.requests[18].messages;
  assert.equal(last.length, 1 + 2 * 18 + 1);
  assert.deepEqual(last.slice(0, 3).map((m) => m.role), ["system", "user", "assistant"]);
  assert.throws(() => conformityEffect(control, pressure), TypeError);
});
