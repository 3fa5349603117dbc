import assert from "node:assert/strict";
import { errorCode } from "../errors.ts";
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
  assert.deepEqual(conversations[1].source, { file: "d.jsonl", line: 3 });
  assert.equal(conversations[1].messages[0].role, "system");
});

Deno.test("parseChatData() reads ShareGPT JSON arrays with their record lines", () => {
  const text = `[
  {"conversations": [{"from": "system", "value": "S"}, {"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]},
  {"conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]}
]`;
  const { conversations } = parseChatData(text, "sharegpt.json");
  assert.deepEqual(conversations[0].messages.map((m) => m.role), ["system", "user", "assistant"]);
  assert.deepEqual(conversations[1].source, { file: "sharegpt.json", line: 3 });
});

Deno.test("parseChatData() names file and line of a malformed JSONL line", () => {
  assert.throws(
    () => parseChatData(`${good()}\n{"messages": [}\n`, "bad.jsonl"),
    dataError(
      /^bad\.jsonl:2: malformed JSON .*each line of a \.jsonl file is one complete JSON object/,
    ),
  );
});

Deno.test("parseChatData() rejects roles out of order and empty assistant turns", () => {
  const rec = (msgs: [string, string][]) =>
    JSON.stringify({ messages: msgs.map(([role, content]) => ({ role, content })) });
  assert.throws(
    () => parseChatData(rec([["assistant", "A"], ["user", "Q"]]), "o.jsonl"),
    dataError(/^o\.jsonl:1: turn 0 has role "assistant" where "user" belongs/),
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
    () => parseChatData(rec([["user", "Q"], ["assistant", "A"], ["user", "Q2"]]), "o.jsonl"),
    dataError(/the last turn is "user"; a training conversation ends with an assistant turn/),
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
    /ids\.jsonl:1: identities is "Doctor"; give an array of identity names/,
  );
});
