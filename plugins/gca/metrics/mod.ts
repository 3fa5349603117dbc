/**
 * CoSER's reference-overlap metrics: unsmoothed sentence BLEU over an NLTK-style tokenizer and
 * pltrdy-style summary-level ROUGE-L.
 *
 * @module
 */

export * from "./bleu.ts";
export * from "./rouge_l.ts";
export * from "./tokenize.ts";
