/**
 * Test helper: llama.cpp (node-llama-cpp's prebuilt CPU build, no compilation) as an independent
 * runtime for the GGUF files this project exports.
 *
 * @module
 */

import { getLlama, type Llama } from "node-llama-cpp";

let llamaPromise: Promise<Llama> | undefined;

/** The process's one llama.cpp binding (CPU, prebuilt only, errors-only logging). */
export function llama(): Promise<Llama> {
  llamaPromise ??= getLlama({ gpu: false, build: "never", logLevel: "error" } as never);
  return llamaPromise;
}

/**
 * Greedy continuation of `prompt` (token ids) by llama.cpp: the first `n` tokens it samples at
 * temperature 0 from the GGUF file at `path`, on one thread with a 256-token context.
 */
export async function llamaCppGreedy(
  path: string,
  prompt: readonly number[],
  n: number,
): Promise<number[]> {
  const model = await (await llama()).loadModel({ modelPath: path });
  try {
    const ctx = await model.createContext({ contextSize: 256, batchSize: 256, threads: 1 });
    try {
      const out: number[] = [];
      for await (const t of ctx.getSequence().evaluate(prompt as never, { temperature: 0 })) {
        out.push(t as number);
        if (out.length >= n) break;
      }
      return out;
    } finally {
      await ctx.dispose();
    }
  } finally {
    await model.dispose();
  }
}
