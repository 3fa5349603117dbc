import assert from "node:assert/strict";
import { AgentHistory, CONVERSATION_START } from "./history.ts";

Deno.test("AgentHistory.append() joins same-role messages with a blank line", () => {
  const h = new AgentHistory("SYS");
  h.append("user", "Ada: Hi.");
  h.append("assistant", "Tom: Hello.");
  h.append("assistant", "Tom: Again.");
  h.append("user", "Ada: Bye.");
  assert.deepEqual(h.messages, [
    { role: "system", content: "SYS" },
    { role: "user", content: `${CONVERSATION_START}\n\nAda: Hi.` },
    { role: "assistant", content: "Tom: Hello.\n\nTom: Again." },
    { role: "user", content: "Ada: Bye." },
  ]);
});

Deno.test("AgentHistory.request() sends the system prompt as a user message when asked", () => {
  const h = new AgentHistory("SYS");
  h.append("assistant", "A");
  assert.deepEqual(h.request({ systemAsUser: true }), [
    { role: "user", content: `SYS\n\n${CONVERSATION_START}` },
    { role: "assistant", content: "A" },
  ]);
  assert.equal(h.request({ system: "OTHER" })[0].content, "OTHER");
  assert.equal(h.systemPrompt, "SYS");
});
