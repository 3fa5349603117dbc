/**
 * Which linear hook points a LoRA adapter attaches to, chosen the way PEFT's `target_modules`
 * chooses modules, plus Dramatis hook names and globs.
 *
 * @module
 */

import type { LinearHook } from "../../core/contracts/adapter.ts";
import { withCode } from "../../core/errors.ts";
import { hookToModule } from "./peft_names.ts";

/**
 * Target patterns:
 * - an array of names; each entry selects every hook whose hook name or HF module name equals it
 *   or ends with `.` + it: PEFT short names (`q_proj`, `down_proj`, `lm_head`), suffixes
 *   (`self_attn.q_proj`, `attn.o_proj`), full hook names (`layers.0.attn.q_proj`) and full HF
 *   module names (`model.layers.0.self_attn.q_proj`). Entries with `*` or `?` are globs over
 *   hook names and HF module names: `*` stays within one dotted segment, `**` crosses dots
 *   (`layers.*.mlp.*`). Every entry must select at least one hook.
 * - the string `"all-linear"`: every block projection, not `lm_head` (as PEFT); also usable as a
 *   list entry (`["all-linear", "lm_head"]`).
 * - any other string: a regular expression that must match a whole HF module name, like PEFT's
 *   string `target_modules` (`.*\.(q|v)_proj`).
 */
export type TargetModules = string | readonly string[];

/** Options of {@link selectTargets}. */
export interface SelectTargetsOptions {
  /**
   * Block indices to keep (PEFT `layers_to_transform`); 0-based. When given, hooks outside
   * decoder blocks (`lm_head`) are never selected, as in PEFT.
   */
  layers?: readonly number[];
}

function configError(message: string): RangeError {
  return withCode(new RangeError(message), "E_CONFIG");
}

function globToRegExp(glob: string): RegExp {
  let src = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      src += ".*";
      i++;
    } else if (c === "*") src += "[^.]*";
    else if (c === "?") src += "[^.]";
    else src += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${src}$`);
}

function entryMatcher(entry: string): (names: string[]) => boolean {
  if (entry === "all-linear") return (names) => names[0] !== "lm_head";
  if (/[*?]/.test(entry)) {
    const re = globToRegExp(entry);
    return (names) => names.some((n) => re.test(n));
  }
  return (names) => names.some((n) => n === entry || n.endsWith(`.${entry}`));
}

/**
 * The names of the hooks among `hooks` that `targets` selects, in the order of `hooks`.
 * A pattern that selects nothing is a `RangeError` tagged `E_CONFIG` listing valid examples.
 *
 * @example
 * ```ts
 * import { selectTargets } from "./target_modules.ts";
 * const hooks = [
 *   { name: "layers.0.attn.q_proj", layer: 0, inFeatures: 8, outFeatures: 8 },
 *   { name: "layers.0.attn.v_proj", layer: 0, inFeatures: 8, outFeatures: 4 },
 *   { name: "lm_head", layer: -1, inFeatures: 8, outFeatures: 32 },
 * ];
 * selectTargets(["q_proj", "v_proj"], hooks); // ["layers.0.attn.q_proj", "layers.0.attn.v_proj"]
 * selectTargets("all-linear", hooks); // the same two: lm_head is left out
 * ```
 */
export function selectTargets(
  targets: TargetModules,
  hooks: readonly LinearHook[],
  options: SelectTargetsOptions = {},
): string[] {
  const named = hooks.map((h) => ({ hook: h, names: [h.name, hookToModule(h.name) ?? h.name] }));
  const layers = options.layers ? new Set(options.layers) : undefined;
  const layerOk = (h: LinearHook) => !layers || (h.layer >= 0 && layers.has(h.layer));
  const example = `e.g. ["q_proj", "v_proj"], "all-linear", ["layers.0.attn.q_proj"] or ` +
    `["layers.*.mlp.*"]`;
  let picked: Set<string>;
  if (typeof targets === "string") {
    if (targets === "all-linear") {
      picked = new Set(hooks.filter((h) => h.layer >= 0).map((h) => h.name));
    } else {
      let re: RegExp;
      try {
        re = new RegExp(`^(?:${targets})$`);
      } catch (error) {
        throw configError(
          `target_modules ${JSON.stringify(targets)} is not a valid regular expression ` +
            `(${(error as Error).message}); pass a list of module names instead, ${example}`,
        );
      }
      picked = new Set(named.filter((n) => re.test(n.names[1])).map((n) => n.hook.name));
      if (picked.size === 0) {
        throw configError(
          `target_modules regex ${JSON.stringify(targets)} matches no module of this model; ` +
            `it must match a whole HF module name such as "${named[0]?.names[1]}"`,
        );
      }
    }
  } else if (Array.isArray(targets) && targets.length > 0) {
    picked = new Set();
    for (const entry of targets) {
      if (typeof entry !== "string" || entry === "") {
        throw configError(
          `target_modules entry ${JSON.stringify(entry)} is not a module name; ${example}`,
        );
      }
      const match = entryMatcher(entry);
      const hits = named.filter((n) => match(n.names));
      if (hits.length === 0) {
        throw configError(
          `target_modules entry ${JSON.stringify(entry)} matches no linear layer of this model; ` +
            `its layers are named like "${named[0]?.hook.name}" / "${named[0]?.names[1]}"; ` +
            example,
        );
      }
      for (const h of hits) picked.add(h.hook.name);
    }
  } else {
    throw configError(
      `target_modules is ${JSON.stringify(targets)}; pass a non-empty list or a string, ${example}`,
    );
  }
  const out = hooks.filter((h) => picked.has(h.name) && layerOk(h)).map((h) => h.name);
  if (out.length === 0) {
    throw configError(
      `target_modules ${JSON.stringify(targets)} with layers ${
        JSON.stringify(options.layers)
      } selects no layer; the model has blocks 0..${
        Math.max(...hooks.map((h) => h.layer))
      } (0-based)`,
    );
  }
  return out;
}
