import assert from "node:assert/strict";
import { splitSentences, treebankTokenize, wordTokenize } from "./tokenize.ts";

Deno.test("treebankTokenize() splits clitics, punctuation, quotes and brackets like NLTK", () => {
  assert.deepEqual(treebankTokenize("they can't, can they?"), [
    "they",
    "ca",
    "n't",
    ",",
    "can",
    "they",
    "?",
  ]);
  assert.deepEqual(treebankTokenize('"i cannot" -- she said.'), [
    "``",
    "i",
    "can",
    "not",
    "''",
    "--",
    "she",
    "said",
    ".",
  ]);
  assert.deepEqual(treebankTokenize("(sets it down) it's 3,000 ... ok"), [
    "(",
    "sets",
    "it",
    "down",
    ")",
    "it",
    "'s",
    "3,000",
    "...",
    "ok",
  ]);
  assert.deepEqual(treebankTokenize("tom: gonna go"), ["tom", ":", "gon", "na", "go"]);
});

Deno.test("splitSentences() ends sentences at . ! ? with closing quotes before whitespace", () => {
  assert.deepEqual(splitSentences('He left. "Why?" she asked.\n\nNo!'), [
    "He left.",
    '"Why?"',
    "she asked.",
    "No!",
  ]);
  assert.deepEqual(splitSentences("3.5 is fine"), ["3.5 is fine"]);
});

Deno.test("wordTokenize() splits the period of every sentence", () => {
  assert.deepEqual(wordTokenize("gone. you lost it!"), ["gone", ".", "you", "lost", "it", "!"]);
  assert.deepEqual(treebankTokenize("gone. you lost it"), ["gone.", "you", "lost", "it"]);
});
