/**
 * The macm plugin's options schema (validated before anything runs).
 *
 * @module
 */

import { z } from "zod";

/**
 * Options of the macm plugin. Defaults follow the reference implementation.
 *
 * @example
 * ```ts
 * import { macmOptionsSchema } from "./options.ts";
 * macmOptionsSchema.parse({}).method; // "macm"
 * ```
 */
export const macmOptionsSchema = z.object({
  method: z.enum(["none", "prompt", "rag", "macm"]).default("macm"),
  /** A character folder; the shipped character when absent. */
  character: z.string().optional(),
  /** Memories kept per stimulus after retrieval. */
  memoryLimit: z.number().int().min(1).default(1),
  /** Paragraphs per memory chunk. */
  chunkSize: z.number().int().min(1).default(2),
  /** Final answer sampling. */
  temperature: z.number().min(0).max(2).default(0.7),
  maxTokens: z.number().int().min(1).default(1024),
  /** rag baseline: chunk size / overlap (characters) and k. */
  ragChunkSize: z.number().int().min(16).default(512),
  ragOverlap: z.number().int().min(0).default(32),
  ragK: z.number().int().min(1).default(3),
  /** Jung test sampling ratio (⌊ratio·10⌋ sentences per cell). */
  jungRatio: z.number().gt(0).max(1).default(0.4),
  seed: z.number().int().default(0),
});

/** Parsed macm options. */
export type MacmOptions = z.infer<typeof macmOptionsSchema>;
