import assert from "node:assert/strict";
import { errorCode } from "../errors.ts";
import { existsSync } from "node:fs";
import { parseChatData, readChatData } from "./chat_data.ts";

const good = (u = "Hi", a = "Hello") =>
  JSON.stringify({ messages: [{ role: "user", content: u }, { role: "assistant", content: a }] });

const dataError = (re: RegExp) => (e: Error) =>
  e instanceof SyntaxError && errorCode(e) === "E_DATA" && re.test(e.message);

Deno.test("parseChatData() reads messages JSONL, skipping blank lines", () => {
  const text = [
    good(),
    "",
    JSON.stringify({
      messages: [
        { role: "system", content: "Be kind." },
        { role: "user", content: "Q" },
        { role: "assistant", content: "A" },
        { role: "user", content: "Q2" },
        { role: "assistant", content: "A2" },
      ],
    }),
  ].join("\n");
  const { conversations, skipped } = parseChatData(text, "d.jsonl");
  assert.equal(conversations.length, 2);
  assert.equal(skipped.length, 0);
  assert.deepEqual(conversations[1].source, { file: "d.jsonl", line: 3, record: 1 });
  assert.equal(conversations[1].messages[0].role, "system");
});

Deno.test("parseChatData() reads ShareGPT JSON arrays with their record lines", () => {
  const text = `[
  {"conversations": [{"from": "system", "value": "S"}, {"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]},
  {"conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]}
]`;
  const { conversations } = parseChatData(text, "sharegpt.json");
  assert.deepEqual(conversations[0].messages.map((m) => m.role), ["system", "user", "assistant"]);
  assert.deepEqual(conversations[1].source, { file: "sharegpt.json", line: 3, record: 1 });
});

Deno.test("parseChatData() names file and line of a malformed JSONL line", () => {
  assert.throws(
    () => parseChatData(`${good()}\n{"messages": [}\n`, "bad.jsonl"),
    dataError(
      /^bad\.jsonl:2: record 1: malformed JSON .*each line of a \.jsonl file is one complete JSON object/,
    ),
  );
});

Deno.test("parseChatData() rejects roles out of order and empty assistant turns", () => {
  const rec = (msgs: [string, string][]) =>
    JSON.stringify({ messages: msgs.map(([role, content]) => ({ role, content })) });
  assert.throws(
    () => parseChatData(rec([["assistant", "A"], ["user", "Q"]]), "o.jsonl"),
    dataError(/^o\.jsonl:1: record 0: turn 0 has role "assistant" where "user" belongs/),
  );
  assert.throws(
    () => parseChatData(rec([["user", "Q"], ["system", "S"], ["assistant", "A"]]), "o.jsonl"),
    dataError(/turn 1 has role "system" where "assistant" belongs/),
  );
  assert.throws(
    () => parseChatData(rec([["user", "Q"], ["assistant", "  "]]), "o.jsonl"),
    dataError(/assistant turn 1 is empty; remove the record or give the turn content/),
  );
  assert.throws(
    () => parseChatData(rec([["user", "Q"]]), "o.jsonl"),
    dataError(/^o\.jsonl:1: record 0: the conversation has no assistant turn/),
  );
  assert.throws(
    () => parseChatData(JSON.stringify({ text: "x" }), "o.jsonl"),
    dataError(/neither a "messages" nor a "conversations" array \(keys: text\)/),
  );
});

Deno.test("parseChatData() counts and reports skips with skipInvalid", () => {
  const text = [good(), "not json", good("Q", ""), good("Q2", "A2")].join("\n");
  const r = parseChatData(text, "mix.jsonl", { skipInvalid: true });
  assert.equal(r.conversations.length, 2);
  assert.deepEqual(r.skipped.map((s) => s.source.line), [2, 3]);
  assert.match(r.skipped[0].reason, /^malformed JSON/);
  assert.match(r.skipped[1].reason, /assistant turn 1 is empty/);
});

Deno.test("readChatData() reads every data file of a directory in name order", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/b.jsonl`, good("b", "B"));
  await Deno.writeTextFile(`${dir}/a.json`, `[${good("a", "A")}]`);
  await Deno.writeTextFile(`${dir}/notes.txt`, "ignored");
  const r = await readChatData(dir);
  assert.deepEqual(r.conversations.map((c) => c.messages[0].content), ["a", "b"]);
  await assert.rejects(() => readChatData(`${dir}/missing.jsonl`), /does not exist/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("parseChatData() carries a record's identities and rejects a malformed identities field", () => {
  const ok = JSON.stringify({
    identities: ["EXT_high", "Doctor"],
    messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello" }],
  });
  const plain = JSON.stringify({
    messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello" }],
  });
  const d = parseChatData(`${ok}\n${plain}`, "ids.jsonl");
  assert.deepEqual(d.conversations[0].identities, ["EXT_high", "Doctor"]);
  assert.equal(d.conversations[1].identities, undefined);
  const bad = JSON.stringify({ identities: "Doctor", messages: JSON.parse(plain).messages });
  assert.throws(
    () => parseChatData(bad, "ids.jsonl"),
    /ids\.jsonl:1: record 0: identities is "Doctor"; give an array of identity names/,
  );
});

Deno.test("parseChatData() trims a trailing unanswered user turn and reports the record", () => {
  const rec = (msgs: [string, string][]) =>
    JSON.stringify({ messages: msgs.map(([role, content]) => ({ role, content })) });
  const text = [
    rec([["user", "Q"], ["assistant", "A"]]),
    rec([["system", "S"], ["user", "Q"], ["assistant", "A"], ["user", "Q2"]]),
  ].join("\n");
  const d = parseChatData(text, "t.jsonl");
  assert.equal(d.conversations.length, 2);
  assert.deepEqual(d.conversations[1].messages.map((m) => m.role), ["system", "user", "assistant"]);
  assert.deepEqual(d.trimmed, [{ source: { file: "t.jsonl", line: 2, record: 1 }, turns: 1 }]);
});

Deno.test("parseChatData() names the line of a truncated JSON file", () => {
  const text =
    '[\n{"messages": [{"role": "user", "content": "Hi"},\n{"role": "assistant", "content": "Hel';
  assert.throws(
    () => parseChatData(text, "cut.json"),
    dataError(/^cut\.json:3: the file is not valid JSON \(.*\); a truncated download/),
  );
});

const SHAREGPT = new URL(
  "../../../shared/upstream/coser/data/train/sft_sharegpt.json",
  import.meta.url,
);

Deno.test({
  name: "readChatData() reads CoSER's released sft_sharegpt.json: 434 conversations, 300 trimmed",
  ignore: !existsSync(SHAREGPT),
  async fn() {
    const d = await readChatData(SHAREGPT.pathname);
    assert.equal(d.conversations.length, 434);
    assert.equal(d.skipped.length, 0);
    assert.equal(d.trimmed.length, 300);
    for (const c of d.conversations) assert.equal(c.messages.at(-1)?.role, "assistant");
  },
});
if (!existsSync(SHAREGPT)) {
  console.warn(`skipped: ${SHAREGPT.pathname} is absent (../shared/upstream)`);
}
