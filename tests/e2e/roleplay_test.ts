/**
 * End to end: LLM Roleplay dialogues between two local personas on tiny-llama, served by this
 * project's own OpenAI-compatible server and reached through `OpenAIChatModel`s behind a SQLite
 * `CachedChatModel`. The tiny model's weights are random, so its text is noise: the assertions
 * check what must hold for any text (records against the schema and the trace, counters against
 * the trace events), and that a rerun is answered by the cache alone.
 */

import { ModelHub } from "../../core/services/model_hub.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { CachedChatModel } from "../../core/chat/cached_chat_model.ts";
import { LocalChatModel } from "../../core/chat/local_chat_model.ts";
import { OpenAIChatModel } from "../../core/chat/openai_chat_model.ts";
import type { ChatModel, ChatRequest } from "../../core/contracts/chat_model.ts";
import { parseArgs } from "../../core/host/args.ts";
import { PersonaResolver } from "../../core/host/server/persona_resolver.ts";
import { startServer } from "../../core/host/server/serve.ts";
import { Engine } from "../../core/model/engine.ts";
import { createTinyModel } from "../../core/model/tiny.ts";
import { PersonaStore } from "../../core/persona/persona_store.ts";
import { generateCommand } from "../../plugins/roleplay/generate_command.ts";
import { generateDialogs } from "../../plugins/roleplay/generate_dialogs.ts";
import { loadGoals } from "../../plugins/roleplay/goals.ts";
import { roleplayOptionsSchema } from "../../plugins/roleplay/options.ts";
import { randomPersonas } from "../../plugins/roleplay/persona.ts";
import { type DialogRecord, dialogRecordSchema } from "../../plugins/roleplay/record.ts";

/** Counts the calls that reach the engine behind the server. */
function counting(inner: ChatModel): ChatModel & { calls: number } {
  const wrapper = {
    id: inner.id,
    calls: 0,
    chat(request: ChatRequest) {
      wrapper.calls++;
      return inner.chat(request);
    },
    stream(request: ChatRequest) {
      wrapper.calls++;
      return inner.stream(request);
    },
  };
  return wrapper;
}

interface TraceLine {
  dialog_id: string;
  name: string;
  turn?: number;
  text?: string;
  num_prompts?: number;
  end_reason?: string;
}

const readLines = async <T>(path: string): Promise<T[]> =>
  (await Deno.readTextFile(path)).split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));

/** Checks records and metrics against the trace events, which are written independently. */
function checkAgainstTrace(
  records: DialogRecord[],
  trace: TraceLine[],
  metrics: Record<string, unknown>,
): void {
  const ids = records.map((r) => r.id!);
  assert.equal(new Set(ids).size, ids.length, "record ids are unique");
  assert.deepEqual(new Set(trace.map((e) => e.dialog_id)), new Set(ids));
  const totals: Record<string, number> = {
    num_no_prompts: 0,
    num_multiple_prompts: 0,
    num_non_coherent: 0,
    num_regenerate_worked: 0,
    num_self_replies: 0,
    num_non_coherent_model_responder: 0,
  };
  const endReasons: Record<string, number> = {};
  let turnsTotal = 0;
  let multipleLower = 0;
  let multipleUpper = 0;
  for (const record of records) {
    assert.deepEqual(dialogRecordSchema.parse(record), record);
    const events = trace.filter((e) => e.dialog_id === record.id);
    const ends = events.filter((e) => e.name === "dialog_end");
    assert.equal(ends.length, 1, `${record.id}: one dialog_end`);
    assert.equal(ends[0].end_reason, record.end_reason);
    endReasons[record.end_reason!] = (endReasons[record.end_reason!] ?? 0) + 1;
    const extracts = events.filter((e) => e.name === "inquirer_output_extract");
    const answers = events.filter((e) => e.name === "responder_output");
    const responderEnded = ["responder_empty", "responder_non_coherent"].includes(
      record.end_reason!,
    );
    assert.equal(record.num_turns, extracts.length - (responderEnded ? 1 : 0));
    assert.equal(record.dialog.length, record.num_turns);
    record.dialog.forEach((turn, i) => {
      assert.equal(turn.turn, i);
      assert.equal(turn.model_inquirer, extracts[i].text);
      assert.equal(turn.model_responder, answers[i].text);
      assert.equal(extracts[i].turn, i);
    });
    // A regeneration repeats the turn's inquirer_input; it "worked" when that turn got a prompt.
    let worked = 0;
    for (const e of extracts) {
      const inputs = events.filter((x) => x.name === "inquirer_input" && x.turn === e.turn);
      if (inputs.length > 1) worked++;
    }
    assert.equal(record.counters!.num_regenerate_worked, worked);
    assert.equal(record.counters!.num_no_prompts, record.end_reason === "no_prompt" ? 1 : 0);
    assert.equal(
      record.counters!.num_non_coherent,
      record.end_reason === "inquirer_non_coherent" ? 1 : 0,
    );
    assert.equal(
      record.counters!.num_non_coherent_model_responder,
      record.end_reason === "responder_non_coherent" ? 1 : 0,
    );
    assert.equal(record.counters!.num_self_replies, 0);
    // Several quoted spans: at least the extracts that say so, at most the outputs with 4+ quotes.
    multipleLower += extracts.filter((e) => (e.num_prompts ?? 0) > 1).length;
    multipleUpper += events.filter((e) =>
      e.name === "inquirer_output" && (e.text!.match(/"/g) ?? []).length >= 4
    ).length;
    for (const k of Object.keys(totals)) totals[k] += record.counters![k];
    turnsTotal += record.num_turns;
  }
  assert.ok(totals.num_multiple_prompts >= multipleLower);
  assert.ok(totals.num_multiple_prompts <= multipleUpper);
  assert.deepEqual(metrics.counters, totals);
  assert.deepEqual(metrics.end_reasons, endReasons);
  assert.equal(metrics.dialogues, records.length);
  assert.equal(metrics.turns_total, turnsTotal);
}

Deno.test("roleplay generate: two server personas on tiny-llama, records match the trace, rerun is cached", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dramatis_roleplay_" });
  const modelDir = join(dir, "tiny");
  await createTinyModel(modelDir, { preset: "tiny-llama", seed: 5 });
  const engine = await Engine.load(modelDir, { steering: true, cacheDir: join(dir, "graphs") });
  const backend = counting(new LocalChatModel(engine, { id: "tiny" }));
  const hub = new ModelHub();
  const store = new PersonaStore(join(dir, "personas"));
  // A test-only user persona that asks for quotes (random weights do not follow it, but the
  // prompt text is part of every request, like a real persona's).
  await store.put({
    name: "user_sim",
    model: modelDir,
    system_prompt: 'You are a terse person. Put every request in "double quotes".',
  });
  await store.put({
    name: "helper",
    model: modelDir,
    system_prompt: "You are a helpful assistant.",
  });
  const resolver = new PersonaResolver({ store, backend: () => backend });
  const server = startServer({
    port: 0,
    resolve: (name) => resolver.resolve(name),
    listModels: () => resolver.models(),
  });
  const cachePath = join(dir, "cache.sqlite");
  const out = join(dir, "out");
  const baseURL = `${server.url}/v1`;
  const inquirerSpec = `${baseURL}#user_sim`;
  const responderSpec = `${baseURL}#helper`;
  // Seed 4 with these limits gives a dialogue with a complete turn after a regeneration; the
  // assertions hold for any outcome.
  const seed = 4;
  const options = {
    seed,
    numTurns: 2,
    inquirerMaxTokens: 64,
    responderMaxTokens: 16,
    regenerateTries: 2,
    personas: { mode: "random" as const, count: 2 },
  };
  try {
    const goals = (await loadGoals()).slice(0, 2);
    const personas = randomPersonas(2, seed);
    const inquirer = new CachedChatModel(
      new OpenAIChatModel({ baseURL, model: "user_sim" }),
      { path: cachePath },
    );
    const responder = new CachedChatModel(
      new OpenAIChatModel({ baseURL, model: "helper" }),
      { path: cachePath },
    );
    const first = await generateDialogs({
      inquirer,
      responder,
      inquirerLabel: inquirerSpec,
      responderLabel: responderSpec,
      goals,
      personas,
      options,
      out,
    });
    inquirer.close();
    responder.close();
    assert.equal(first.written, 4);
    assert.equal(first.skipped, 0);
    assert.equal(first.dialogsPath, join(out, "dialogs", "user_sim", first.runId, `${seed}.jsonl`));
    const callsAfterFirst = backend.calls;
    assert.ok(callsAfterFirst >= 4, "every dialogue asked the inquirer at least once");
    assert.equal(callsAfterFirst, inquirer.stats.misses + responder.stats.misses);

    const recordsText = await Deno.readTextFile(first.dialogsPath);
    const traceText = await Deno.readTextFile(first.tracePath);
    const records = await readLines<DialogRecord>(first.dialogsPath);
    assert.equal(records.length, 4);
    assert.deepEqual(records.map((r) => r.id).sort(), [
      `${goals[0].id}/p0`,
      `${goals[0].id}/p1`,
      `${goals[1].id}/p0`,
      `${goals[1].id}/p1`,
    ]);
    for (const r of records) {
      assert.equal(r.inquirer, inquirerSpec);
      assert.equal(r.responder, responderSpec);
      assert.equal(r.sample.instruction, goals.find((g) => g.id === r.sample.id)!.instruction);
      assert.ok(personas.some((p) => p.persona === r.persona && p.persona_hash === r.persona_hash));
    }
    const metrics = JSON.parse(await Deno.readTextFile(first.metricsPath));
    checkAgainstTrace(records, await readLines<TraceLine>(first.tracePath), metrics);
    assert.equal(metrics.planned, 4);

    // Rerun through the CLI command with the outputs removed: every dialogue is simulated again
    // and every model call is answered by the cache.
    for (const p of [first.dialogsPath, first.tracePath, first.metricsPath]) await Deno.remove(p);
    const runCli = async (): Promise<Record<string, unknown>> => {
      const argv = [
        "--inquirer",
        inquirerSpec,
        "--responder",
        responderSpec,
        "--samples",
        "2",
        "--personas",
        "2",
        "--seed",
        String(seed),
        "--turns",
        "2",
        "--inquirer-max-tokens",
        "64",
        "--responder-max-tokens",
        "16",
        "--out",
        out,
        "--cache",
        cachePath,
        "--json",
      ];
      const printed: string[] = [];
      const log = console.log;
      console.log = (...a: unknown[]) => printed.push(a.join(" "));
      try {
        const status = await generateCommand.run(
          parseArgs(argv, generateCommand.flags!, "dramatis roleplay generate"),
          {
            json: true,
            log: () => {},
            signal: new AbortController().signal,
            models: hub,
            // The host passes --plugin-options roleplay=JSON like this.
            pluginOptions: new Map([[
              "roleplay",
              roleplayOptionsSchema.parse({ regenerateTries: 2 }),
            ]]),
          } as Parameters<typeof generateCommand.run>[1],
        );
        assert.equal(status, 0);
      } finally {
        console.log = log;
      }
      return JSON.parse(printed.join("\n"));
    };
    const second = await runCli();
    assert.equal(second.run_id, first.runId, "the same inputs name the same run");
    assert.equal(second.written, 4);
    assert.equal((second.cache as { model_calls: number }).model_calls, 0);
    assert.equal(backend.calls, callsAfterFirst, "the rerun made no backend calls");
    assert.equal(await Deno.readTextFile(first.dialogsPath), recordsText);
    assert.equal(await Deno.readTextFile(first.tracePath), traceText);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(first.metricsPath)), metrics);

    // A third run finds every record written and skips them all.
    const third = await runCli();
    assert.equal(third.written, 0);
    assert.equal(third.skipped, 4);
    assert.equal(backend.calls, callsAfterFirst);
  } finally {
    await server.shutdown();
    await engine.close();
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});
