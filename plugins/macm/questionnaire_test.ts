import assert from "node:assert/strict";
import { Prng } from "../../core/util/prng.ts";
import {
  answerText,
  parseQuestionnaire,
  type QuestionItem,
  renderItem,
  scoreItem,
} from "./questionnaire.ts";

const single: QuestionItem = {
  type: "Single_choice",
  question: "What is your education?",
  options: ["A. none", "B. school", "C. college", "D. PhD"],
  answer: ["C"],
};
const multiple: QuestionItem = {
  type: "Multiple_choices",
  question: "Hobbies?",
  options: ["A. a", "B. b", "C. c", "D. d", "E. e", "F. f"],
  answer: ["C", "E", "F"],
};
const cloze: QuestionItem = {
  type: "Cloze",
  question: "Name?",
  options: [],
  answer: ["Hazel Okafor"],
};

Deno.test("answerText() starts at the first 'The answer is'", () => {
  assert.equal(
    answerText("A maybe? The answer is C. The answer is D."),
    "The answer is C. The answer is D.",
  );
  assert.equal(answerText("C, I think"), "C, I think");
});

Deno.test("scoreItem() single choice takes the first standalone letter", () => {
  assert.deepEqual(scoreItem(single, "Hmm, A or B? The answer is C."), {
    parsed: ["C"],
    points: 2,
    max: 2,
    parse_failure: false,
  });
  assert.equal(scoreItem(single, "The answer is D, not C.").points, 0);
  assert.deepEqual(scoreItem(single, "college, of course"), {
    parsed: [],
    points: 0,
    max: 2,
    parse_failure: true,
  });
  // "A" as an English article counts as a letter, as in the reference
  assert.equal(scoreItem(single, "A college course: C").points, 0);
});

Deno.test("scoreItem() multiple choice adds 2 per hit, subtracts 2 per miss, floors at 0", () => {
  assert.equal(scoreItem(multiple, "The answer is C, E, F").points, 6);
  assert.equal(scoreItem(multiple, "The answer is C, E and A.").points, 2);
  assert.equal(scoreItem(multiple, "The answer is A, B, D and C").points, 0); // 2 − 6 → 0
  assert.deepEqual(scoreItem(multiple, "The answer is F, F, C").parsed, ["F", "C"]);
  assert.equal(scoreItem(multiple, "The answer is F, F, C").max, 6);
  assert.equal(scoreItem(multiple, "no idea, sorry").parse_failure, true);
  assert.equal(scoreItem(multiple, "The answer is A, B, D and C").parse_failure, false);
});

Deno.test("scoreItem() cloze matches key answers as lower-case substrings", () => {
  assert.equal(scoreItem(cloze, "The answer is hazel okafor!").points, 2);
  assert.equal(scoreItem(cloze, "I'm Hazel.").points, 0);
  const two = { ...cloze, answer: ["1985", "09"] };
  assert.deepEqual(scoreItem(two, "Born 1985-09-14").parsed, ["1985", "09"]);
  assert.equal(scoreItem(two, "Born 1985-09-14").points, 4);
  assert.equal(scoreItem({ ...cloze, type: "Open-Ended" }, "anything").points, 0);
});

Deno.test("renderItem() shuffles options but keeps their letters", () => {
  const r = renderItem(multiple, new Prng(4));
  assert.deepEqual(r.shown_order.slice().sort(), ["A", "B", "C", "D", "E", "F"]);
  assert.ok(r.user.startsWith("Alice said: 'I have got a question for you: <<< Hobbies? "));
  assert.ok(r.stimulus.startsWith("Hobbies? "));
  for (const o of multiple.options) assert.ok(r.stimulus.includes(o));
  assert.deepEqual(renderItem(multiple, new Prng(4)), r);
});

Deno.test("parseQuestionnaire() rejects malformed items with E_DATA", () => {
  assert.throws(
    () => parseQuestionnaire([{ type: "Cloze" }], "x.json"),
    (e: Error & { code?: string }) => e.code === "E_DATA" && /x\.json/.test(e.message),
  );
  assert.throws(() => parseQuestionnaire([{ ...single, options: ["a) x"] }]), TypeError);
});

Deno.test("runQuestionnaire() asks every item through the simulacrum and totals by type", async () => {
  const { Simulacrum } = await import("./simulacrum.ts");
  const { runQuestionnaire } = await import("./questionnaire.ts");
  const { generateProfile } = await import("./profile_generator.ts");
  const seen: string[] = [];
  const model = {
    id: "m",
    chat(r: { messages: { role: string; content: string }[] }) {
      const user = r.messages.at(-1)!.content;
      seen.push(r.messages.map((m) => m.role).join(","));
      const content = user.includes("Hobbies?") ? "The answer is C, E and A." : "The answer is C.";
      return Promise.resolve({
        id: "x",
        model: "m",
        created: 0,
        usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
        choices: [{
          index: 0,
          message: { role: "assistant" as const, content },
          finish_reason: "stop" as const,
        }],
      });
    },
    stream(): AsyncIterable<never> {
      throw new Error("not used");
    },
  };
  const s = new Simulacrum({
    method: "prompt",
    character: { profile: generateProfile(1), biography: "b" },
    simulacrum: model,
  });
  const r = await runQuestionnaire(s, [single, multiple, cloze], 3);
  assert.deepEqual(r.totals, { max: 10, Single_choice: 2, Multiple_choices: 2, Cloze: 0 });
  assert.deepEqual(r.items.map((i) => i.points), [2, 2, 0]);
  assert.equal(r.parse_failures, 0);
  assert.equal(r.method, "prompt");
  assert.deepEqual(seen, ["system,system,user", "system,system,user", "system,system,user"]);
});
