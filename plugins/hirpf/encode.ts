/**
 * Encoding of sanitized identities into the six `[group, expert]` slots the model consumes
 * (spec A2), batch tensors `[B, 6, 2]`, and the per-group expert masks the graph reads.
 *
 * @module
 */

import { DEFAULT_PROFESSIONS, identityGroups, type InsertMode } from "./identities.ts";
import { MAX_IDENTITIES, sanitizeIdentities } from "./sanitize.ts";

/** One slot: `[groupIndex, expertIndex]`, or `[-1, -1]` when empty. */
export type IdentitySlot = [number, number];

/** The empty slot. */
export const EMPTY_SLOT: Readonly<IdentitySlot> = [-1, -1];

/**
 * Encodes an already sanitized list into exactly six slots, in list order, looked up with exact
 * name matching in `groups` (`config.adapter_names`). A name absent from every group encodes to
 * `[-1, -1]` (as the released code does); the remaining slots are padded with `[-1, -1]`.
 *
 * @example
 * ```ts
 * import { encodeSlots } from "./encode.ts";
 * import { identityGroups } from "./identities.ts";
 * console.log(encodeSlots(["Artist", "AGR_high", "OPE_low"], identityGroups("alternate")));
 * // [[1,1],[0,0],[0,9],[-1,-1],[-1,-1],[-1,-1]]
 * ```
 */
export function encodeSlots(
  sanitized: readonly string[],
  groups: readonly string[][],
): IdentitySlot[] {
  if (sanitized.length > MAX_IDENTITIES) {
    throw new RangeError(
      `identity list has ${sanitized.length} names (${sanitized.join(", ")}); ` +
        `sanitize it first, at most ${MAX_IDENTITIES} are allowed`,
    );
  }
  const slots: IdentitySlot[] = [];
  for (const name of sanitized) {
    let slot: IdentitySlot = [-1, -1];
    for (let g = 0; g < groups.length; g++) {
      const e = groups[g].indexOf(name);
      if (e >= 0) {
        slot = [g, e];
        break;
      }
    }
    slots.push(slot);
  }
  while (slots.length < MAX_IDENTITIES) slots.push([-1, -1]);
  return slots;
}

/**
 * Sanitizes a requested list (spec A6) and encodes it for an insert mode.
 *
 * @example
 * ```ts
 * import { encodeIdentities } from "./encode.ts";
 * console.log(encodeIdentities(["Artist", "AGR_high", "OPE_low"], "flat")[0]); // [0, 11]
 * ```
 */
export function encodeIdentities(
  requested: readonly string[],
  mode: InsertMode,
  professions: readonly string[] = DEFAULT_PROFESSIONS,
): IdentitySlot[] {
  const groups = identityGroups(mode, professions);
  return encodeSlots(sanitizeIdentities(requested, { professions }), groups);
}

/**
 * Packs per-row slots into a flat int64 tensor `[B * beams, 6, 2]`; each row is repeated `beams`
 * times consecutively (repeat-interleave along the batch, as beam search expects).
 *
 * @example
 * ```ts
 * import { slotTensor } from "./encode.ts";
 * const t = slotTensor([[[0, 3], [-1, -1], [-1, -1], [-1, -1], [-1, -1], [-1, -1]]], 2);
 * console.log(t.shape, t.data.length); // [2, 6, 2] 24
 * ```
 */
export function slotTensor(
  rows: readonly IdentitySlot[][],
  beams = 1,
): { shape: [number, number, number]; data: BigInt64Array } {
  if (!Number.isInteger(beams) || beams < 1) {
    throw new RangeError(`beams is ${beams}; pass a whole number >= 1`);
  }
  const data = new BigInt64Array(rows.length * beams * MAX_IDENTITIES * 2);
  let o = 0;
  for (const [r, row] of rows.entries()) {
    if (row.length !== MAX_IDENTITIES) {
      throw new RangeError(
        `row ${r} has ${row.length} slots; encode it with encodeSlots() (6 slots)`,
      );
    }
    for (let b = 0; b < beams; b++) {
      for (const [g, e] of row) {
        data[o++] = BigInt(g);
        data[o++] = BigInt(e);
      }
    }
  }
  return { shape: [rows.length * beams, MAX_IDENTITIES, 2], data };
}

/**
 * Per-group expert masks from slots: `masks[g][e]` is 1 when expert e of group g is active, else 0.
 * A slot with either component -1 is ignored. The graph turns 0 into the hard-mask value.
 *
 * @example
 * ```ts
 * import { slotMasks } from "./encode.ts";
 * console.log(slotMasks([[1, 1], [0, 0], [-1, -1]], [10, 3])); // [[1,0,...,0],[0,1,0]]
 * ```
 */
export function slotMasks(
  slots: readonly IdentitySlot[],
  groupSizes: readonly number[],
): number[][] {
  const masks = groupSizes.map((n) => new Array<number>(n).fill(0));
  for (const [g, e] of slots) {
    if (g < 0 || e < 0) continue;
    if (g >= masks.length || e >= masks[g].length) {
      throw new RangeError(
        `slot [${g}, ${e}] is outside the groups (sizes ${groupSizes.join(", ")}); ` +
          `encode with the same groups the model was built with`,
      );
    }
    masks[g][e] = 1;
  }
  return masks;
}
