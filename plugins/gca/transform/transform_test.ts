import assert from "node:assert/strict";
import { Prng } from "../../../core/util/prng.ts";
import { parseBook } from "../schemas.ts";
import { bookToShareGpt, nspSample, speakerTurns } from "./sharegpt.ts";
import { bookHash, splitBooks } from "./split.ts";
import { randomCharacterPrompt } from "./templates.ts";
import { sampleTestRecords, speakersByFrequency, toTestRecord } from "./test_records.ts";

const dialogues = [
  { character: "Mira", message: "[Calm.] (enters) Where is it?" },
  { character: "Oskar", message: "[Lie.] Gone." },
  { character: "Environment", message: "A bell [distant] rings." },
  { character: "Mira", message: "Gone where?" },
  { character: "Mira", message: "[Wait.] Answer me." },
];

const book = parseBook({
  plots: [0, 1].map((i) => ({
    text: "t",
    summary: `Summary ${i}.`,
    key_characters: [{ name: "Mira", description: "keeper's daughter", experience: `exp ${i}` }],
    conversation: [
      {
        scenario: `Scene ${i}.`,
        topic: "box",
        key_characters: [{ name: "Mira", motivation: "find it" }],
        dialogues,
      },
      {
        scenario: "bad",
        topic: "",
        key_characters: [],
        dialogues: [{ character: "Environment", message: "Only wind." }],
      },
    ],
  })),
  character_datasets: {
    Mira: {
      plots: [{ i_p: 0 }, { i_p: 1 }],
      conversations: [],
      utterances: [{ i_p: 0, i_c: 0, i_u: 0 }],
      profile: "Mira profile.",
    },
    Oskar: { plots: [], conversations: [], utterances: [{ i_p: 1, i_c: 0, i_u: 1 }], profile: "" },
  },
  split_plot_index: 1,
});

Deno.test("bookHash() is the base-31 polynomial mod 2^32 and splitBooks() orders by it", () => {
  assert.equal(bookHash("ab"), 31 * 97 + 98);
  assert.equal(bookHash(""), 0);
  // "Othello" wraps around 2^32: check against a BigInt computation
  let h = 0n;
  for (const c of "Othello.json") h = (h * 31n + BigInt(c.charCodeAt(0))) % 2n ** 32n;
  assert.equal(bookHash("Othello.json"), Number(h));
  const names = ["b", "a", "c", "d", "e", "f", "g", "h", "i", "j"];
  const { id, ood } = splitBooks(names);
  assert.deepEqual([...id, ...ood], [...names].sort((x, y) => bookHash(x) - bookHash(y)));
  assert.equal(id.length, 9);
});

Deno.test("speakerTurns() merges consecutive lines and hides others' thoughts", () => {
  assert.deepEqual(speakerTurns(dialogues, "Oskar", false), [
    { from: "human", value: "===Conversation Start===\n\nMira: (enters) Where is it?\n\n" },
    { from: "assistant", value: "Oskar: [Lie.] Gone.\n\n" },
    // the lines after Oskar's last turn teach nothing and are not emitted
  ]);
  assert.deepEqual(speakerTurns(dialogues, "Mira", true).map((t) => t.value), [
    "===Conversation Start===\n\n",
    "Mira: (enters) Where is it?\n\n",
    "Oskar: Gone.\n\nEnvironment: A bell [distant] rings.\n\n",
    "Mira: Gone where?\n\nMira: Answer me.\n\n",
  ]);
});

Deno.test("bookToShareGpt() renders 4 variants per speaker for training plots and NSP samples", () => {
  const samples = bookToShareGpt(book, "The Salt Road", { prng: new Prng(1), nspRate: 1 });
  // plot 0 only (split 1); conversation 1 (Environment only) is skipped: 4 × 3 speakers + 1 NSP
  assert.equal(samples.length, 13);
  const nsp = samples.filter((s) => s.conversations.at(-1)!.value === "<END CHAT>");
  assert.equal(nsp.length, 1);
  const env = samples.filter((s) => s.conversations[0].value.includes("role-playing game"));
  assert.equal(env.length, 4);
  for (const s of samples.filter((x) => !nsp.includes(x))) {
    assert.equal(s.conversations[0].from, "system");
    for (const t of s.conversations.filter((t) => t.from === "human")) {
      assert.doesNotMatch(t.value, /\[(Calm|Lie|Wait)\.\]/);
    }
  }
  // thoughtless variants of Mira never show her thoughts in her own turns
  const mira = samples.filter((s) =>
    s.conversations.some((t) => t.from === "assistant" && t.value.startsWith("Mira:"))
  );
  assert.equal(mira.length, 4);
  assert.equal(
    mira.filter((s) => s.conversations.some((t) => t.value.includes("[Wait.]"))).length,
    2,
  );
  assert.deepEqual(bookToShareGpt(book, "B", { prng: new Prng(1), nspRate: 0 }).length, 12);
});

Deno.test("nspSample() alternates names and lines and replaces minor speakers with random", () => {
  const always = { next: () => 0.1 } as unknown as Prng;
  const s = nspSample(
    { scenario: "S", topic: "", key_characters: [], dialogues: dialogues.slice(0, 3) },
    ["Mira", "Oskar", "Environment"],
    ["Mira"],
    always,
  );
  assert.deepEqual(s.conversations.slice(1).map((t) => `${t.from}:${t.value}`), [
    "human:===Conversation Start===",
    "assistant:Mira",
    "human:Mira: [Calm.] (enters) Where is it?",
    "assistant:random",
    "human:Oskar: [Lie.] Gone.",
    "assistant:Environment",
    "human:Environment: A bell [distant] rings.",
    "assistant:<END CHAT>",
  ]);
  assert.match(s.conversations[0].value, /Answer with the name only\./);
});

Deno.test("randomCharacterPrompt() includes required sections and skips absent ones", () => {
  const p = randomCharacterPrompt(
    { name: "Mira", book: "B", profile: "Prof.", scenario: "Scene." },
    new Prng(3),
  );
  assert.match(p, /Mira/);
  assert.match(p, /Prof\./);
  assert.match(p, /Scene\./);
  assert.doesNotMatch(p, /Requirements|Output Format|How to Reply|Plot Summary|Story So Far/);
});

Deno.test("toTestRecord() orders speakers by frequency and weights by √plots", () => {
  assert.deepEqual(speakersByFrequency(dialogues), ["Mira", "Oskar", "Environment"]);
  const r = toTestRecord(book, "The Salt Road", 1, 0, "ood")!;
  assert.deepEqual(r.speaking_characters_w_env, ["Mira", "Oskar", "Environment"]);
  assert.deepEqual(r.major_characters, ["Mira"]);
  // Mira appears in 2 plots → √2; Oskar in 1 → max(1, 1) = 1
  assert.equal(r.weight, (Math.SQRT2 + 1) / 2);
  assert.deepEqual(r.character_profiles, { Mira: "Mira profile." });
  assert.equal(toTestRecord(book, "B", 1, 1, "ood"), null);
});

Deno.test("sampleTestRecords() keeps the heaviest candidates and draws without replacement", () => {
  const c = [5, 1, 4, 2, 8, 3, 7, 6].map((weight, i) => ({ weight, i }));
  const picked = sampleTestRecords(c, 2, new Prng(42));
  assert.equal(picked.length, 2);
  assert.notEqual(picked[0].i, picked[1].i);
  for (const p of picked) {
    assert.ok(p.weight >= 5, "only the top max(2, 4) = 4 weights are eligible");
  }
  assert.deepEqual(sampleTestRecords(c.slice(0, 3), 5, new Prng(1)).length, 3);
  assert.deepEqual(sampleTestRecords(c, 2, new Prng(42)), picked);
});
