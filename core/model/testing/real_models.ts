/**
 * Test fixtures with real tokenizers: one temporary model directory per preset and options,
 * made once per test process by {@link createRealTokenizerModel} and removed at exit.
 *
 * @module
 */

import {
  createRealTokenizerModel,
  type RealTokenizerModelOptions,
  type RealTokenizerPreset,
} from "../real_presets.ts";
import { loadTokenizer, type ModelTokenizer } from "../tokenizer.ts";

const dirs = new Map<string, Promise<string>>();
const made = new Set<string>();
const tokenizers = new Map<RealTokenizerPreset, Promise<ModelTokenizer>>();
let cleanup = false;

/**
 * A model directory with a real tokenizer (created on first use, shared within the process).
 *
 * @example
 * ```ts ignore
 * import { realTokenizerModelDir } from "./real_models.ts";
 * const dir = await realTokenizerModelDir({ preset: "tiny-llama2-chat", seed: 1 });
 * ```
 */
export function realTokenizerModelDir(options: RealTokenizerModelOptions): Promise<string> {
  const key = JSON.stringify(options);
  let p = dirs.get(key);
  if (!p) {
    p = (async () => {
      const dir = await Deno.makeTempDir({ prefix: `dramatis_${options.preset}_` });
      made.add(dir);
      await createRealTokenizerModel(dir, options);
      return dir;
    })();
    dirs.set(key, p);
    if (!cleanup) {
      cleanup = true;
      globalThis.addEventListener("unload", () => {
        for (const d of made) {
          try {
            Deno.removeSync(d, { recursive: true });
          } catch { /* already gone */ }
        }
      });
    }
  }
  return p;
}

/**
 * The loaded tokenizer of a real-tokenizer preset (weights seed 0), shared within the process.
 *
 * @example
 * ```ts ignore
 * import { realTokenizer } from "./real_models.ts";
 * const tok = await realTokenizer("tiny-qwen3-real");
 * ```
 */
export function realTokenizer(preset: RealTokenizerPreset): Promise<ModelTokenizer> {
  let p = tokenizers.get(preset);
  if (!p) {
    p = realTokenizerModelDir({ preset }).then(loadTokenizer);
    tokenizers.set(preset, p);
  }
  return p;
}
