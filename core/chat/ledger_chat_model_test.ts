import assert from "node:assert/strict";
import { join } from "node:path";
import { errorCode } from "../errors.ts";
import { LedgerChatModel } from "./ledger_chat_model.ts";
import { ScriptedChatModel } from "./testing/mod.ts";

// The scripted model's reply to "one two" is "echo: one two": 2 prompt and 3 completion tokens.
const request = { messages: [{ role: "user" as const, content: "one two" }] };

Deno.test("LedgerChatModel records tokens and cost per model for chat and stream", async () => {
  const ledger = new LedgerChatModel(new ScriptedChatModel(), {
    prices: { scripted: { input: 1, output: 2 }, other: { input: 10, output: 10 } },
  });
  await ledger.chat(request);
  for await (const _ of ledger.stream({ ...request, model: "other" })) { /* drain */ }
  const report = ledger.report();
  assert.equal(report.totals.calls, 2);
  assert.equal(report.totals.prompt_tokens, 4);
  assert.equal(report.totals.completion_tokens, 6);
  assert.equal(report.by_model.scripted.cost_usd, (2 * 1 + 3 * 2) / 1e6);
  assert.equal(report.by_model.other.cost_usd, (2 * 10 + 3 * 10) / 1e6);
  assert.ok(Math.abs(report.totals.cost_usd - 58 / 1e6) < 1e-15);
  assert.deepEqual(JSON.parse(JSON.stringify(ledger)), report);
});

Deno.test("LedgerChatModel stops with E_BUDGET once the ceiling is reached", async () => {
  const inner = new ScriptedChatModel();
  // Each call costs (2 + 3) * $100 / 1M = $0.0005; the ceiling allows two calls.
  const ledger = new LedgerChatModel(inner, {
    prices: { scripted: { input: 100, output: 100 } },
    ceilingUsd: 0.001,
  });
  await ledger.chat(request);
  await ledger.chat(request);
  await assert.rejects(
    ledger.chat(request),
    (e) => errorCode(e) === "E_BUDGET" && /ceiling/.test((e as Error).message),
  );
  assert.equal(inner.calls.length, 2);
});

Deno.test("LedgerChatModel with a ceiling rejects a model without a price", async () => {
  const ledger = new LedgerChatModel(new ScriptedChatModel(), { ceilingUsd: 1 });
  await assert.rejects(
    ledger.chat(request),
    (e) => errorCode(e) === "E_CONFIG" && /scripted/.test((e as Error).message),
  );
});

Deno.test("LedgerChatModel.export() writes the report as JSON", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ledger = new LedgerChatModel(new ScriptedChatModel());
    await ledger.chat(request);
    await ledger.export(join(dir, "ledger.json"));
    const saved = JSON.parse(await Deno.readTextFile(join(dir, "ledger.json")));
    assert.equal(saved.totals.calls, 1);
    assert.equal(saved.totals.unpriced_calls, 1);
    assert.equal(saved.ceiling_usd, null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
