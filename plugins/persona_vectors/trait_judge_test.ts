import assert from "node:assert/strict";
import { fillJudgeTemplate } from "./judge_prompts.ts";
import { logprobJudge } from "./trait_judge.ts";
import { LogprobChatModel } from "./testing/logprob_chat_model.ts";

const L = Math.log;

Deno.test("logprobJudge() asks for one token with top_logprobs and scores it", async () => {
  const model = new LogprobChatModel(() => ({
    content: "80",
    top: [{ token: "80", logprob: L(0.6) }, { token: "40", logprob: L(0.2) }],
  }));
  const j = logprobJudge({ name: "optimistic", template: "Q:{question} A:{answer}", model });
  const v = await j.judge({ question: "How's life?", answer: "<think>plan</think>Great!" }, {});
  assert.deepEqual(v.value?.score, 70); // (80·0.6 + 40·0.2) / 0.8
  const req = model.calls[0];
  assert.equal(req.messages[0].content, "Q:How's life? A:Great!");
  assert.deepEqual([req.max_tokens, req.temperature, req.logprobs, req.top_logprobs, req.seed], [
    1,
    0,
    true,
    20,
    0,
  ]);
  assert.equal(j.schema.safeParse(v.value).success, true);
});

Deno.test("logprobJudge() returns counted null verdicts on failures", async () => {
  const replies = [
    {
      content: "I refuse",
      top: [{ token: "I", logprob: L(0.9) }, { token: "10", logprob: L(0.1) }],
    },
    { content: "50" },
    { content: "70", top: [{ token: "70", logprob: 0 }] },
  ];
  const model = new LogprobChatModel((_, i) => replies[i]);
  const j = logprobJudge({ name: "t", template: "{question}{answer}", model });
  const a = await j.judge({ question: "q", answer: "a" }, {});
  const b = await j.judge({ question: "q", answer: "a" }, {});
  const c = await j.judge({ question: "q", answer: "a" }, {});
  assert.equal(a.value, null);
  assert.match(a.reason!, /below 0.25/);
  assert.equal(b.value, null);
  assert.match(b.reason!, /no top_logprobs/);
  assert.equal(c.value?.score, 70);
  assert.equal(j.stats.calls, 3);
  assert.equal(j.stats.nulls, 2);
  const noModel = logprobJudge({ name: "t", template: "{question}{answer}" });
  assert.match((await noModel.judge({ question: "q", answer: "a" }, {})).reason!, /no judge model/);
});

Deno.test("logprobJudge() binary_text mode reads the answer tag without logprobs", async () => {
  const model = new LogprobChatModel(() => ({ content: "thinking... <answer>NO</answer>" }));
  const j = logprobJudge({ name: "t", template: "{question}{answer}", model, mode: "binary_text" });
  assert.equal((await j.judge({ question: "q", answer: "a" }, {})).value?.score, 0);
  assert.equal(model.calls[0].logprobs, undefined);
});

Deno.test("fillJudgeTemplate() does not re-substitute placeholders inside values", () => {
  assert.equal(
    fillJudgeTemplate("[{question}] [{answer}] {other}", {
      question: "{answer}",
      answer: "{question}",
    }),
    "[{answer}] [{question}] {other}",
  );
});
