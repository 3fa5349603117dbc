import assert from "node:assert/strict";
import type { ChatModel, ChatRequest, ChatResponse } from "../../../core/contracts/chat_model.ts";
import { parseBook } from "../schemas.ts";
import { chunkBook, dropCopyrightLines, isHeading, splitChapters } from "./chunking.ts";
import { locatePlots, validateExtraction } from "./extraction.ts";
import { mergeTruncated } from "./merge.ts";
import { nameSimilarity, resolveName } from "./names.ts";
import { constructBook, detectLanguage, isCopyrightRefusal, sanitizeTitle } from "./pipeline.ts";
import { bestSentence, sentencesWithOffsets, sequenceRatio, trigramJaccard } from "./similarity.ts";
import { approxTokenize, type Tokenizer } from "./tokens.ts";

const story = Deno.readTextFileSync(new URL("../data/story.txt", import.meta.url));
const words: Tokenizer = (t) =>
  [...t.matchAll(/\S+/g)].map((m) => [m.index!, m.index! + m[0].length]);

Deno.test("isHeading() recognises chapter headings and not prose", () => {
  for (
    const h of [
      "Chapter 1: The Toll Box",
      "CHAPTER TWELVE",
      "Part IV",
      "Prologue",
      "XII",
      "7.",
      "## Ice",
      "第三章 夜",
    ]
  ) {
    assert.ok(isHeading(h), h);
  }
  for (
    const p of ["The chapter ended.", "", "Chapters of my life were long and winding and many"]
  ) assert.ok(!isHeading(p), p);
});

Deno.test("splitChapters() finds the shipped story's 7 chapters and chunkBook() uses them", () => {
  assert.equal(splitChapters(story).length, 7);
  const { chunks, chapters } = chunkBook(story, { chunkSize: 1024 });
  assert.equal(chapters, true);
  assert.ok(chunks[0].startsWith("THE SALT ROAD\n\nChapter 1: The Toll Box"));
  assert.ok(chunks[1].startsWith("Chapter 2: The Ledger"));
  const joined = chunks.join("\n");
  const heads = [...story.matchAll(/^Chapter \d+: .+$/gm)].map((m) => joined.indexOf(m[0]));
  assert.equal(heads.length, 7);
  assert.ok(heads.every((h, i) => h >= 0 && (i === 0 || h > heads[i - 1])));
  assert.ok(chunks.every((c) => approxTokenize(c).length <= 2 * 1024));
});

Deno.test("chunkBook() without chapters cuts fixed token windows", () => {
  const text = Array.from({ length: 25 }, (_, i) => `w${i}`).join(" ");
  const { chunks, chapters } = chunkBook(text, { chunkSize: 10, tokenize: words });
  assert.equal(chapters, false);
  assert.deepEqual(chunks.map((c) => c.trim().split(" ").length), [10, 10, 5]);
  assert.equal(chunks.join(""), text);
});

Deno.test("chunkBook() strips tabs above 5% and copyright lines from the first chunk", () => {
  const text = "All rights reserved. No part may be reproduced.\nA story begins here.";
  assert.deepEqual(chunkBook(text, { chunkSize: 100 }).chunks, ["A story begins here."]);
  assert.deepEqual(chunkBook("a\tb\tc", { chunkSize: 100 }).chunks, ["abc"]); // 2 tabs in 5 chars
  const few = "x".repeat(60) + "\ty";
  assert.deepEqual(chunkBook(few, { chunkSize: 100 }).chunks, [few]); // 1 tab in 62 chars is kept
  assert.equal(dropCopyrightLines("Copyright 2024, used with permission.\nKeep me."), "Keep me.");
  assert.equal(dropCopyrightLines("We reserved a table."), "We reserved a table.");
});

Deno.test("sequenceRatio(), trigramJaccard() and sentence matching follow their definitions", () => {
  assert.equal(sequenceRatio("abcd", "bcde"), 0.75);
  assert.equal(sequenceRatio("", ""), 1);
  assert.equal(sequenceRatio("abc", "xyz"), 0);
  assert.equal(trigramJaccard("a b c d", "a b c e"), 1 / 3);
  const s = sentencesWithOffsets("Mira woke. She ran!\nThe end");
  assert.deepEqual(s.map((x) => x.text), ["Mira woke.", "She ran!", "The end"]);
  assert.equal("Mira woke. She ran!\nThe end".slice(s[1].start, s[1].end), "She ran!");
  assert.equal(bestSentence(s, "she ran")?.index, 1);
  assert.equal(bestSentence(s, "completely different words"), undefined);
});

Deno.test("validateExtraction() accepts a wrapper, a bare plot or a list, and rejects junk", () => {
  const plot = { summary: "S", state: "weird", prominence: "70" };
  const a = validateExtraction({ plots: [plot], next_chunk_start: "None" });
  assert.equal(a.plots[0].state, "finished");
  assert.equal(a.plots[0].prominence, 70);
  assert.equal(a.next_chunk_start, null);
  assert.equal(validateExtraction(plot).plots.length, 1);
  assert.equal(validateExtraction([plot, plot]).plots.length, 2);
  assert.throws(() => validateExtraction({ plots: [{ prominence: 3 }] }), /plots\.0\.summary/);
});

Deno.test("locatePlots() cuts plot spans by fuzzy sentences and computes the carry-over", () => {
  const text =
    "Intro here. Mira woke early. She ran.\nThen Oskar came. Storm rose.\nLast line one.\nLast line two.";
  const r = locatePlots(text, {
    plots: [{
      first_sentence: "Mira woke early",
      last_sentence: "Then Oskar came!",
      summary: "S",
      chapter: "",
      state: "finished",
      prominence: 5,
      key_characters: [],
      conversation: [],
    }],
    next_chunk_start: "Storm rose.",
  });
  assert.equal(r.plots[0].text, "Mira woke early. She ran.\nThen Oskar came.");
  // the tail from "Storm rose." has 41 chars; dropping the first 8 (20%) leaves "se.\nLast…",
  // and advancing past the next newline leaves the last two lines
  assert.equal(r.carryOver, "Last line one.\nLast line two.");
});

Deno.test("mergeTruncated() joins a continued plot and closes an orphan", () => {
  const base = { chapter: "", prominence: 50, key_characters: [], located: true };
  const prev = [
    {
      ...base,
      text: "A1",
      summary: "Mira finds the toll shed empty",
      state: "truncated" as const,
      i_chunk: 0,
      conversation: [{
        scenario: "at the shed at night",
        topic: "",
        key_characters: [],
        dialogues: [],
      }],
    },
    {
      ...base,
      text: "B1",
      summary: "Unrelated orphan plot line here",
      state: "truncated" as const,
      i_chunk: 0,
      conversation: [],
    },
  ].map(({ located: _l, ...p }) => p);
  const fresh = [{
    ...base,
    text: "A2",
    summary: "Mira finds the toll shed empty and cries",
    state: "finished" as const,
    conversation: [
      { scenario: "at the shed at night", topic: "new", key_characters: [], dialogues: [] },
      { scenario: "back at the house", topic: "", key_characters: [], dialogues: [] },
    ],
  }];
  const r = mergeTruncated(prev, fresh, 1);
  assert.deepEqual(r.truncated, []);
  assert.deepEqual(r.finished.map((p) => [p.text, p.state, p.i_chunk]), [["B1", "finished", 0], [
    "A1\nA2",
    "finished",
    0,
  ]]);
  assert.deepEqual(r.finished[1].conversation.map((c) => c.topic), ["new", ""]);
});

Deno.test("resolveName() maps, then matches by similarity, else impersonal", () => {
  const map = {
    named_characters: ["Mira Holt", "Oskar Brenn"],
    to_official_name: { Mira: "Mira Holt" },
  };
  assert.equal(resolveName("Mira", map), "Mira Holt");
  assert.equal(resolveName("Oskar Brenn.", map), "Oskar Brenn");
  assert.equal(resolveName("the guard", map), "impersonal");
  assert.equal(resolveName("Environment", map), "Environment");
  assert.equal(nameSimilarity("ab", "ab"), 1);
});

Deno.test("sanitizeTitle(), detectLanguage() and isCopyrightRefusal() follow the spec", () => {
  assert.equal(sanitizeTitle("Dr. Who: A/B"), "Dr  Who_ A-B");
  assert.equal(detectLanguage("The ferry crossed."), "en");
  assert.equal(detectLanguage("渡船在夜里过河。The end"), "zh");
  assert.ok(isCopyrightRefusal("Sorry, I can't reproduce copyrighted text (copyright)."));
  assert.ok(!isCopyrightRefusal('{"plots": []}'));
});

/** A scripted model that plays extractor, repairer, enhancer, name normaliser and profiler. */
class BookModel implements ChatModel {
  readonly id = "book-model";
  requests: ChatRequest[] = [];
  chat(request: ChatRequest): Promise<ChatResponse> {
    this.requests.push(request);
    const sys = request.messages[0].content;
    const user = request.messages[1]?.content ?? "";
    let out = "no idea";
    if (sys.startsWith("You turn passages")) {
      if (user.includes("ALPHA")) {
        out = "Here you go:\n```json\n" + JSON.stringify({
          plots: [{
            first_sentence: "Mira woke.",
            last_sentence: "Oskar came.",
            state: "truncated",
            summary: "Mira finds the toll shed empty and Oskar arrives",
            prominence: 80,
            key_characters: [{ name: "Mira", description: "d", experience: "e" }],
            conversation: [{
              scenario: "At the shed at night",
              topic: "old",
              key_characters: [{ name: "Mira", motivation: "m" }],
              dialogues: [{ character: "Mira", message: "[hm] Where?" }],
            }],
          }],
          next_chunk_start: null,
        }) + "\n```";
      } else if (user.includes("BETA")) {
        out = JSON.stringify({
          plots: [
            {
              first_sentence: "Oskar confessed.",
              last_sentence: "Mira listened.",
              state: "finished",
              summary: "Mira finds the toll shed empty and Oskar arrives and confesses",
              prominence: 90,
              key_characters: [{ name: "Mira Holt", description: "d2", experience: "e2" }, {
                name: "Oskar",
                description: "o",
                experience: "x",
              }],
              conversation: [{
                scenario: "At the shed at night",
                topic: "new",
                key_characters: [{ name: "Mira", motivation: "m" }, {
                  name: "Oskar",
                  motivation: "n",
                }],
                dialogues: [
                  { character: "Mira", message: "[Lies.] Where is it?" },
                  { character: "Oskar", message: "Gone." },
                  { character: "the guard", message: "Halt." },
                  { character: "Environment", message: "Fog." },
                ],
              }],
            },
            {
              summary: "Lask visits",
              key_characters: [{ name: "Lask" }, { name: "Lask" }],
              conversation: [],
            },
          ],
        });
      } else if (request.messages.length === 2) {
        out = "I cannot reproduce this text because of copyright.";
      } else out = "Still no.";
    } else if (sys.startsWith("The JSON below")) out = "nothing to fix";
    else if (sys.startsWith("You prepare scenes")) {
      const names = /===Key characters===\n([\s\S]*?)\n\n===/.exec(user)![1].split("\n").map((l) =>
        l.split(":")[0]
      );
      out = JSON.stringify({
        scenario: "Enhanced scene.",
        key_characters: names.map((name) => ({ name, motivation: `better ${name}` })),
      });
    } else if (sys.startsWith("You tidy")) {
      out = JSON.stringify({
        named_characters: ["Mira Holt", "Oskar Brenn"],
        to_official_name: { Mira: "Mira Holt", Oskar: "Oskar Brenn", "the guard": "impersonal" },
      });
    } else if (sys.startsWith("You write character guides")) {
      const name = /narrative profile of (.+?): background/.exec(sys)![1];
      out = `Let me think.\n===Profile===\n${name} is a person of the crossing.`;
    }
    return Promise.resolve({
      id: "r",
      model: this.id,
      created: 0,
      choices: [{ index: 0, message: { role: "assistant", content: out }, finish_reason: "stop" }],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    });
  }
  stream(): AsyncIterable<never> {
    throw new Error("unused");
  }
}

Deno.test("constructBook() extracts, merges, skips a failed chunk, enhances, renames and profiles", async () => {
  const text = "ALPHA Mira woke. She found the shed empty. Oskar came.\n" +
    "BETA Oskar confessed. He owed money to Lask. Mira listened.\n" +
    "GAMMA The clerk came. He counted the box twice. Done.";
  const model = new BookModel();
  const logs: string[] = [];
  const { book, stats, title } = await constructBook(
    model,
    { title: "Salt: Road", content: text },
    {
      chunkSize: 10,
      tokenize: words,
      maxRetries: 1,
      log: (m) => logs.push(m),
    },
  );
  assert.equal(title, "Salt_ Road");
  assert.equal(stats.chunks, 3);
  assert.deepEqual(stats.failedChunks, [2]);
  assert.match(logs[0], /^chunk 2: skipped after 2 attempts/);
  assert.equal(stats.droppedPlots, 1);
  assert.equal(stats.plots, 1);
  const plot = book.plots[0];
  assert.equal(
    plot.text,
    "ALPHA Mira woke. She found the shed empty. Oskar came.\nBETA Oskar confessed. He owed money to Lask. Mira listened.",
  );
  assert.equal(plot.i_chunk, 0);
  assert.equal(plot.conversation.length, 1);
  const conv = plot.conversation[0];
  assert.equal(conv.topic, "new");
  assert.equal(conv.scenario, "Enhanced scene.");
  assert.deepEqual(conv.key_characters.map((k) => [k.name, k.motivation]), [[
    "Mira Holt",
    "better Mira",
  ], ["Oskar Brenn", "better Oskar"]]);
  assert.deepEqual(conv.dialogues.map((d) => d.character), [
    "Mira Holt",
    "Oskar Brenn",
    "the guard",
    "Environment",
  ]);
  assert.deepEqual(Object.keys(book.character_datasets).sort(), ["Mira Holt", "Oskar Brenn"]);
  assert.equal(
    book.character_datasets["Mira Holt"].profile,
    "Mira Holt is a person of the crossing.",
  );
  assert.deepEqual(
    book.character_datasets["Oskar Brenn"].utterances.map((u) => [u.i_p, u.i_c, u.i_u]),
    [[0, 0, 1]],
  );
  assert.equal(book.split_plot_index, 0);
  // the refusal on chunk 2 was answered before the retry
  const retried = model.requests.find((r) =>
    r.messages.length === 4 && r.messages[1].content.includes("GAMMA")
  );
  assert.ok(retried);
  assert.equal(retried.messages[2].role, "assistant");
  assert.equal(parseBook(book).plots.length, 1);
});
