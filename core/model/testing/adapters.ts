/**
 * Test helper: fills an adapter's parameters with seeded normal values, so tests exercise
 * adapters that change the model (freshly made ones are often the identity, e.g. LoRA's B = 0).
 *
 * @module
 */

import type { Adapter } from "../../contracts/adapter.ts";
import { Prng } from "../../util/prng.ts";

/**
 * Sets every parameter of `adapter` to `std` × a standard normal draw of a {@link Prng} seeded
 * with `seed`, in parameter order.
 *
 * @example
 * ```ts ignore
 * import { randomizeParameters } from "./adapters.ts";
 * randomizeParameters(lora, 9, 0.1);
 * ```
 */
export function randomizeParameters(adapter: Adapter, seed: number, std = 0.1): void {
  const rng = new Prng(seed);
  for (const p of adapter.parameters()) {
    for (let i = 0; i < p.data.length; i++) p.data[i] = std * rng.normal();
  }
}
