import assert from "node:assert/strict";
import {
  buildCorpus,
  buildRetriever,
  characterPlotIndices,
  conversationText,
  cosine,
  renderHits,
  topK,
} from "./retrieval.ts";
import { parseBook } from "./schemas.ts";

const book = parseBook({
  plots: [0, 1, 2, 3, 4].map((i) => ({
    text: `Plot ${i} raw text about the ${["ferry", "storm", "ledger", "shed", "dawn"][i]}.`,
    summary: `Summary ${i}.`,
    key_characters: [{ name: "Mira", experience: `Mira did thing ${i}.` }],
    conversation: [{
      scenario: `Scene ${i}`,
      topic: `Topic ${i}`,
      key_characters: [],
      dialogues: [{ character: "Mira", message: `[secret ${i}] Line ${i}.` }, {
        character: "Oskar",
        message: "Hm.",
      }],
    }],
  })),
  character_datasets: {
    Mira: {
      plots: [{ i_p: 0 }, { i_p: 1 }],
      conversations: [{ i_p: 2, i_c: 0 }],
      utterances: [{ i_p: 4, i_c: 0, i_u: 0 }, { i_p: 1, i_c: 0, i_u: 0 }],
      profile: "",
    },
  },
  split_plot_index: 4,
});

Deno.test("characterPlotIndices() excludes the test plot and held-out plots by default", () => {
  assert.deepEqual(characterPlotIndices(book, "Mira", { testPlot: 1 }), [0, 2]);
  assert.deepEqual(characterPlotIndices(book, "Mira", { testPlot: 1, leakageFilter: false }), [
    0,
    1,
    2,
    4,
  ]);
  assert.deepEqual(characterPlotIndices(book, "Nobody"), []);
});

Deno.test("buildCorpus() renders the three corpora", () => {
  assert.deepEqual(buildCorpus(book, "Mira", "book", { testPlot: 1 }), [
    "Plot 0 raw text about the ferry.",
    "Plot 2 raw text about the ledger.",
  ]);
  assert.deepEqual(buildCorpus(book, "Mira", "experience", { testPlot: 2 }), [
    "PLOT: Summary 0.\nMira's role: Mira did thing 0.",
    "PLOT: Summary 1.\nMira's role: Mira did thing 1.",
  ]);
  assert.equal(
    conversationText(book.plots[2], 0),
    "Plot Background:\nSummary 2.\n\nScenario:\nScene 2\n\ntopic:\nTopic 2\n\nConversation:\nMira: Line 2.\n\nOskar: Hm.",
  );
  assert.equal(buildCorpus(book, "Mira", "conversation", { testPlot: 9 }).length, 3);
});

Deno.test("cosine() and topK() rank by angle with ties to the lower index", () => {
  assert.equal(cosine([1, 0], [0, 1]), 0);
  assert.ok(Math.abs(cosine([1, 1], [2, 2]) - 1) < 1e-12);
  assert.equal(cosine([0, 0], [1, 1]), 0);
  assert.deepEqual(topK([1, 0], [[0, 1], [1, 0.1], [1, 0], [2, 0]], 3), [2, 3, 1]);
  assert.throws(() => cosine([1], [1, 2]), /embedding sizes differ \(1 vs 2\)/);
});

Deno.test("renderHits() numbers several hits and leaves one hit untitled", () => {
  assert.equal(renderHits("book", ["A"]), "====Book Content====\nA");
  assert.equal(
    renderHits("experience", ["A", "B"]),
    "====Historical Experience====\nHistorical Experience 1:\nA\n\nHistorical Experience 2:\nB",
  );
});

/** A deterministic embedding: counts of a few keywords. */
const KEYS = ["ferry", "storm", "ledger", "shed", "dawn", "0", "1", "2"];
const embed = (texts: string[]) =>
  Promise.resolve(texts.map((t) => KEYS.map((k) => t.split(k).length - 1 + 0.01)));

Deno.test("buildRetriever() returns ranked hits in chunk order, wrapped in the background markers", async () => {
  const r = await buildRetriever(book, "Mira", "expr3_conv1", embed, { testPlot: 1 });
  assert.ok(r);
  const text = await r.retrieve("What happened with the ledger 2?");
  assert.ok(
    text.startsWith("<begin of background information>\n\n====Historical Experience====\n"),
  );
  assert.ok(text.endsWith("\n\n<end of background information>"));
  // k = 3 experiences but only plots 0 and 2 survive the filter, kept in chunk order
  assert.match(
    text,
    /Historical Experience 1:\nPLOT: Summary 0\.[\s\S]*Historical Experience 2:\nPLOT: Summary 2\./,
  );
  assert.match(text, /====Historical Conversation====\nPlot Background:\nSummary 2\./);
  assert.equal(await buildRetriever(book, "Oskar", "conv1", embed), null);
  await assert.rejects(
    buildRetriever(book, "Mira", "expr7" as never, embed),
    /retrieval variant is "expr7"/,
  );
});
