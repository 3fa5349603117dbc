/**
 * The built-in plugins, listed once. A plugin lands here when its roles work end to end.
 *
 * @module
 */

import type { Plugin } from "../core/contracts/plugin.ts";
import { gca } from "./gca/plugin.ts";
import { hirpf } from "./hirpf/plugin.ts";
import { lora } from "./lora/plugin.ts";
import { macm } from "./macm/plugin.ts";
import { personaVectors } from "./persona_vectors/plugin.ts";
import { roleplay } from "./roleplay/plugin.ts";

/** Every built-in plugin, in listing order. */
// deno-lint-ignore no-explicit-any
export const builtinPlugins: Plugin<any>[] = [
  lora(),
  hirpf(),
  personaVectors(),
  gca(),
  roleplay(),
  macm(),
];
