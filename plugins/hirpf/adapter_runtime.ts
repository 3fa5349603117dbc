/**
 * Runtime tensors of the identity adapter: per batch row, the requested identities are checked
 * against the pool, sanitized (spec A6), encoded into the six `[group, expert]` slots (spec A2)
 * and turned into one `[batch, E]` 0/1 mask per group; while training, one dropout mask per hook.
 *
 * @module
 */

import { withCode } from "../../core/errors.ts";
import { Prng } from "../../core/util/prng.ts";
import type { IdentityAdapterConfig } from "./adapter_config.ts";
import { encodeSlots, slotMasks } from "./encode.ts";
import { allIdentities } from "./identities.ts";
import { canonicalIdentity, sanitizeIdentities } from "./sanitize.ts";

function usage(error: Error): Error {
  return withCode(error, "E_USAGE");
}

/**
 * Checks one row's requested identities against the pool and sanitizes them. Unknown names (after
 * `EMS_*` → `NEU_*`) raise a RangeError naming the name and the valid list, or are dropped when
 * the config says `unknownIdentities: "drop"`; conflicting names (a second polarity of a factor, a
 * second profession, a seventh name) are dropped as the released sanitizer does.
 *
 * @example
 * ```ts
 * import { resolveIdentityAdapterConfig } from "./adapter_config.ts";
 * import { checkRowIdentities } from "./adapter_runtime.ts";
 * const config = resolveIdentityAdapterConfig();
 * console.log(checkRowIdentities(config, ["EMS_high", "Doctor", "NEU_high"], 0)); // ["NEU_low", "Doctor"]
 * ```
 */
export function checkRowIdentities(
  config: IdentityAdapterConfig,
  requested: readonly string[],
  row: number,
): string[] {
  if (!Array.isArray(requested)) {
    throw usage(
      new TypeError(
        `identities[${row}] is ${JSON.stringify(requested)}; pass an array of identity names`,
      ),
    );
  }
  const pool = allIdentities(config.professions);
  const kept: string[] = [];
  for (const name of requested) {
    if (typeof name !== "string") {
      throw usage(
        new TypeError(
          `identities[${row}] holds ${JSON.stringify(name)}; identity names are strings`,
        ),
      );
    }
    if (pool.includes(canonicalIdentity(name))) kept.push(name);
    else if (config.unknownIdentities === "error") {
      throw usage(
        new RangeError(
          `identity ${JSON.stringify(name)} (batch row ${row}) is not an expert of this adapter; ` +
            `use one of ${pool.join(", ")} (EMS_high / EMS_low are read as NEU_low / NEU_high)`,
        ),
      );
    }
  }
  return sanitizeIdentities(kept, { professions: config.professions });
}

/**
 * Per-group expert masks for a batch: `masks[g]` is a row-major `[batchSize, |g|]` array of 1
 * (active) / 0. Rows without identities are all zeros, i.e. the base model. With `sparse: false`
 * every entry is 1 and the identities are ignored (the released default).
 *
 * @example
 * ```ts
 * import { resolveIdentityAdapterConfig } from "./adapter_config.ts";
 * import { identityMasks } from "./adapter_runtime.ts";
 * const masks = identityMasks(resolveIdentityAdapterConfig(), 2, [["Artist", "AGR_high"], []]);
 * console.log(masks[1]); // Float32Array [0, 1, 0, 0, 0, 0]
 * ```
 */
export function identityMasks(
  config: IdentityAdapterConfig,
  batchSize: number,
  identities?: readonly (readonly string[] | undefined)[],
): Float32Array[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw usage(new RangeError(`batchSize is ${batchSize}; pass a whole number >= 1`));
  }
  if (identities !== undefined && identities.length !== batchSize) {
    throw usage(
      new RangeError(
        `identities has ${identities.length} rows but batchSize is ${batchSize}; ` +
          `pass one identity list per batch row (an empty list for none)`,
      ),
    );
  }
  const sizes = config.groups.map((g) => g.length);
  const out = sizes.map((n) => new Float32Array(batchSize * n));
  for (let row = 0; row < batchSize; row++) {
    const names = checkRowIdentities(config, identities?.[row] ?? [], row);
    const masks = config.sparse
      ? slotMasks(encodeSlots(names, config.groups), sizes)
      : sizes.map((n) => new Array<number>(n).fill(1));
    masks.forEach((m, g) => out[g].set(m, row * sizes[g]));
  }
  return out;
}

/**
 * Inverted-dropout masks, one per hook, `[batchSize, sequenceLength, inFeatures]`: each entry is
 * 0 with probability p, else `1 / (1 - p)`. Seeded, so a training step repeats exactly.
 *
 * @example
 * ```ts
 * import { dropoutMasks } from "./adapter_runtime.ts";
 * const m = dropoutMasks([{ hook: "layers.0.attn.q_proj", inFeatures: 4 }], 1, 2, 0.5, 7);
 * console.log(m.get("layers.0.attn.q_proj")?.length); // 8, each 0 or 2
 * ```
 */
export function dropoutMasks(
  hooks: readonly { hook: string; inFeatures: number }[],
  batchSize: number,
  sequenceLength: number,
  p: number,
  seed: number,
): Map<string, Float32Array> {
  if (!Number.isInteger(sequenceLength) || sequenceLength < 1) {
    throw usage(
      new RangeError(
        `sequenceLength is ${sequenceLength}; a training run needs the padded sequence length (>= 1) for dropout masks`,
      ),
    );
  }
  const rng = new Prng(seed);
  const keep = 1 / (1 - p);
  const out = new Map<string, Float32Array>();
  for (const { hook, inFeatures } of hooks) {
    if (out.has(hook)) continue;
    const m = new Float32Array(batchSize * sequenceLength * inFeatures);
    for (let i = 0; i < m.length; i++) m[i] = rng.next() < p ? 0 : keep;
    out.set(hook, m);
  }
  return out;
}
