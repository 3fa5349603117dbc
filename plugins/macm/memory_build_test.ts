import assert from "node:assert/strict";
import { FnModel, testProfile } from "./testing/fixtures.ts";
import {
  addLongMemory,
  buildLongMemory,
  chunkStory,
  loadMemory,
  memoryId,
  saveMemory,
} from "./memory_build.ts";

const profile = testProfile;

// each agent echoes its task kind and the start of its input
const agent = () =>
  new FnModel("agent", (r) => {
    const sys = r.messages[0].content, user = r.messages[1].content;
    const kind = sys.includes("Recall it")
      ? "C"
      : sys.includes("going through your mind")
      ? "T"
      : sys.includes("emotions you feel")
      ? "E"
      : "S";
    return `${kind}(${user.slice(0, 12)})`;
  });

Deno.test("chunkStory() pairs paragraphs and memoryId() pads to three digits", () => {
  assert.deepEqual(chunkStory(["a", "b", "c", "d", "e"]), ["a\nb", "c\nd", "e"]);
  assert.deepEqual(chunkStory([]), []);
  assert.equal(memoryId(7), "007");
  assert.equal(memoryId(1234), "1234");
});

Deno.test("buildLongMemory() makes four agent calls per chunk in order", async () => {
  const a = agent();
  const progress: number[] = [];
  const m = await buildLongMemory(a, profile, ["p1", "p2", "p3"], {
    onChunk: (d) => progress.push(d),
  });
  assert.equal(a.requests.length, 8);
  assert.deepEqual(progress, [1, 2]);
  assert.deepEqual(Object.keys(m.index), ["001", "002"]);
  assert.deepEqual(m.long["001"].Memory, {
    "Memory Content": "C(p1\np2)",
    Thinking: "T(C(p1\np2))", // thinking reads the recollection, not the raw chunk
    Emotion: "E(p1\np2)",
  });
  assert.equal(m.index["002"], m.long["002"].Memory_Summary);
  assert.ok(a.requests[0].messages[0].content.startsWith("You are Test Person."));
  assert.ok(
    !a.requests[3].messages[0].content.includes("You are Test Person"),
    "summariser is neutral",
  );
  assert.ok(a.requests.every((r) => r.temperature === 0));
});

Deno.test("addLongMemory() appends the next id; save/load round-trips", async () => {
  const m = await buildLongMemory(agent(), profile, ["p1", "p2"]);
  m.index["009"] = "x";
  m.long["009"] = {
    Memory_Summary: "x",
    Memory: { "Memory Content": "", Thinking: "", Emotion: "" },
  };
  assert.equal(await addLongMemory(agent(), profile, m, "new job"), "010");
  const dir = await Deno.makeTempDir();
  try {
    await saveMemory(dir, m);
    assert.deepEqual(await loadMemory(dir), m);
    await Deno.writeTextFile(`${dir}/long_memory.json`, "{}");
    await assert.rejects(loadMemory(dir), /has no Memory/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
