import assert from "node:assert/strict";
import type { ChatModel, ChatRequest, ChatResponse } from "../../core/contracts/chat_model.ts";
import { aggregateByInquirer, indistinguishabilityJudge } from "./indistinguishability_judge.ts";

class ScriptedModel implements ChatModel {
  readonly id = "judge";
  readonly requests: ChatRequest[] = [];
  constructor(private script: string[]) {}
  chat(request: ChatRequest): Promise<ChatResponse> {
    this.requests.push(request);
    const content = this.script.shift() ?? "";
    return Promise.resolve({
      id: "x",
      model: "judge",
      created: 0,
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    });
  }
  stream(): AsyncIterable<never> {
    throw new Error("not used");
  }
}

const dialog = [{
  turn: 0,
  model_inquirer: "hikes in france no climbing",
  model_responder: "Try Loire.",
}];

Deno.test("indistinguishabilityJudge() parses a fenced JSON verdict", async () => {
  const model = new ScriptedModel([
    'Here:\n```json\n{"rationale": "typos, terse", "verdict": "human", "confidence": 0.7}\n```',
  ]);
  const v = await indistinguishabilityJudge().judge({ dialog, goal: "You want hikes." }, { model });
  assert.deepEqual(v.value, { rationale: "typos, terse", verdict: "human", confidence: 0.7 });
  assert.ok(model.requests[0].messages[1].content.includes("USER: hikes in france no climbing"));
});

Deno.test("indistinguishabilityJudge() returns null with a reason when the verdict is invalid", async () => {
  const model = new ScriptedModel(['{"rationale": "x", "verdict": "robot", "confidence": 2}']);
  const v = await indistinguishabilityJudge({ maxRetries: 0 }).judge({ dialog }, { model });
  assert.equal(v.value, null);
  assert.ok(v.reason && v.reason.length > 0);
});

Deno.test("aggregateByInquirer() computes the judged-human share per inquirer", () => {
  const h = (verdict: "human" | "simulated", confidence: number) => ({
    value: { rationale: "", verdict, confidence },
  });
  const s = aggregateByInquirer([
    { inquirer: "mixtral", verdict: h("human", 0.5) },
    { inquirer: "mixtral", verdict: h("simulated", 1) },
    { inquirer: "mixtral", verdict: h("human", 0.6) },
    { inquirer: "mixtral", verdict: { value: null, reason: "no JSON" } },
    { inquirer: "gpt4", verdict: { value: null, reason: "no JSON" } },
  ]);
  const { mean_confidence, ...rest } = s[0];
  assert.deepEqual(rest, {
    inquirer: "mixtral",
    n: 4,
    failed: 1,
    judged_human: 2,
    indistinguishability_rate: 2 / 3,
  });
  assert.ok(Math.abs(mean_confidence! - 0.7) < 1e-12); // (0.5 + 1 + 0.6) / 3
  assert.equal(s[1].indistinguishability_rate, null);
});
