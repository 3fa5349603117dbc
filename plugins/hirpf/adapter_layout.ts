/**
 * Where the identity experts live and what their tensors are called.
 *
 * An {@link ExpertModule} is one (decoder block, projection, group) triple: the group's experts
 * attached to one hook `layers.{i}.attn.{proj}` (0-based block index i). Block i hosts the groups
 * `groupsForLayer(i, insertMode, numLayers, groups.length)`.
 *
 * Names (E experts in the group, rank r, the hook's `in` / `out` features):
 *
 * | where                      | name                                            | shape       |
 * | -------------------------- | ----------------------------------------------- | ----------- |
 * | graph parameter            | `hirpf.{hook}.g{group}.lora_A_t`                | `[in, E·r]` |
 * | graph parameter            | `hirpf.{hook}.g{group}.lora_B_t`                | `[E·r, out]`|
 * | graph parameter            | `hirpf.{hook}.g{group}.gate.weight_t`           | `[in, E]`   |
 * | graph parameter            | `hirpf.{hook}.g{group}.gate.bias`               | `[E]`       |
 * | checkpoint tensor          | `{hook}.{group}.{expert}.lora_A`                | `[r, in]`   |
 * | checkpoint tensor          | `{hook}.{group}.{expert}.lora_B`                | `[out, r]`  |
 * | checkpoint tensor          | `{hook}.{group}.gate.weight`                    | `[E, in]`   |
 * | checkpoint tensor          | `{hook}.{group}.gate.bias`                      | `[E]`       |
 * | runtime input (per row)    | `hirpf.mask.g{group}`                           | `[batch, E]`|
 * | runtime input (training)   | `hirpf.dropout.{hook}`                          | `[batch, seq, in]` |
 *
 * Graph parameters stack the experts of a group and are stored transposed, so the fragment is two
 * plain MatMuls with no per-run transpose or concat: columns `e·r .. e·r+r-1` of `lora_A_t` are
 * `A_eᵀ`, rows `e·r .. e·r+r-1` of `lora_B_t` are `B_eᵀ`, column e of `gate.weight_t` is `G[e]`.
 * Checkpoints keep the PEFT orientation (`A [r, in]`, `B [out, r]`, gate `[E, in]`), one tensor per
 * expert.
 *
 * @module
 */

import type { LinearHook } from "../../core/contracts/adapter.ts";
import { withCode } from "../../core/errors.ts";
import type { IdentityAdapterConfig, IdentityTargetModule } from "./adapter_config.ts";
import { groupsForLayer } from "./identities.ts";

/** One group of experts at one hook. */
export interface ExpertModule {
  /** Hook name `layers.{i}.attn.{proj}`. */
  hook: string;
  /** 0-based decoder block index. */
  layer: number;
  proj: IdentityTargetModule;
  /** Group index into `config.groups`. */
  group: number;
  /** Expert names of the group, in group order. */
  experts: string[];
  inFeatures: number;
  outFeatures: number;
}

/** Graph parameter names of one {@link ExpertModule}. */
export interface ExpertModuleParameterNames {
  loraA: string;
  loraB: string;
  gateWeight: string;
  gateBias: string;
}

/**
 * The hook name of a projection of a block.
 *
 * @example
 * ```ts
 * import { identityHookName } from "./adapter_layout.ts";
 * console.log(identityHookName(3, "o_proj")); // "layers.3.attn.o_proj"
 * ```
 */
export function identityHookName(layer: number, proj: IdentityTargetModule): string {
  return `layers.${layer}.attn.${proj}`;
}

/**
 * The number of decoder blocks described by a hook list (largest block index + 1).
 *
 * @example
 * ```ts
 * import { numLayersOfHooks } from "./adapter_layout.ts";
 * console.log(numLayersOfHooks([{ name: "layers.1.attn.q_proj", layer: 1, inFeatures: 4, outFeatures: 4 }])); // 2
 * ```
 */
export function numLayersOfHooks(hooks: readonly LinearHook[]): number {
  let max = -1;
  for (const h of hooks) if (h.layer > max) max = h.layer;
  if (max < 0) {
    throw withCode(
      new RangeError(
        "the hook list has no decoder block hooks (layers.{i}.*); pass decoderHooks(config)",
      ),
      "E_CONFIG",
    );
  }
  return max + 1;
}

/**
 * Every expert module of an adapter on a decoder with these hooks, ordered by block, projection
 * (q, k, v, o) and group. Throws when a needed hook is missing.
 *
 * @example
 * ```ts
 * import { expertModules } from "./adapter_layout.ts";
 * import { resolveIdentityAdapterConfig } from "./adapter_config.ts";
 * const hooks = [0, 1].flatMap((i) => ["q_proj", "k_proj", "v_proj", "o_proj"].map((p) => ({
 *   name: `layers.${i}.attn.${p}`, layer: i, inFeatures: 8, outFeatures: 8 })));
 * const mods = expertModules(resolveIdentityAdapterConfig(), hooks);
 * console.log(mods.length, mods[4].hook, mods[4].experts); // 8 "layers.1.attn.q_proj" ["Doctor", "Artist", "Programmer"]
 * ```
 */
export function expertModules(
  config: IdentityAdapterConfig,
  hooks: readonly LinearHook[],
): ExpertModule[] {
  const numLayers = numLayersOfHooks(hooks);
  const byName = new Map(hooks.map((h) => [h.name, h]));
  const out: ExpertModule[] = [];
  for (let layer = 0; layer < numLayers; layer++) {
    const groups = groupsForLayer(layer, config.insertMode, numLayers, config.groups.length);
    for (const proj of config.targetModules) {
      const hook = identityHookName(layer, proj);
      const h = byName.get(hook);
      if (!h) {
        throw withCode(
          new RangeError(
            `the decoder offers no hook "${hook}"; identity experts need ${
              config.targetModules.join(", ")
            } on every block — pass decoderHooks(config) of a Llama-family model`,
          ),
          "E_PLUGIN_HOOK",
        );
      }
      for (const group of groups) {
        out.push({
          hook,
          layer,
          proj,
          group,
          experts: [...config.groups[group]],
          inFeatures: h.inFeatures,
          outFeatures: h.outFeatures,
        });
      }
    }
  }
  return out;
}

/**
 * Graph parameter names of a module (see the module table).
 *
 * @example
 * ```ts
 * import { parameterNames } from "./adapter_layout.ts";
 * console.log(parameterNames({ hook: "layers.0.attn.q_proj", group: 0 }).loraA);
 * // "hirpf.layers.0.attn.q_proj.g0.lora_A_t"
 * ```
 */
export function parameterNames(
  m: Pick<ExpertModule, "hook" | "group">,
): ExpertModuleParameterNames {
  const p = `hirpf.${m.hook}.g${m.group}`;
  return {
    loraA: `${p}.lora_A_t`,
    loraB: `${p}.lora_B_t`,
    gateWeight: `${p}.gate.weight_t`,
    gateBias: `${p}.gate.bias`,
  };
}

/**
 * Checkpoint tensor names of one expert of a module.
 *
 * @example
 * ```ts
 * import { checkpointExpertNames } from "./adapter_layout.ts";
 * console.log(checkpointExpertNames({ hook: "layers.1.attn.v_proj", group: 1 }, "Doctor").loraB);
 * // "layers.1.attn.v_proj.1.Doctor.lora_B"
 * ```
 */
export function checkpointExpertNames(
  m: Pick<ExpertModule, "hook" | "group">,
  expert: string,
): { loraA: string; loraB: string } {
  const p = `${m.hook}.${m.group}.${expert}`;
  return { loraA: `${p}.lora_A`, loraB: `${p}.lora_B` };
}

/**
 * Checkpoint tensor names of the gate of a module.
 *
 * @example
 * ```ts
 * import { checkpointGateNames } from "./adapter_layout.ts";
 * console.log(checkpointGateNames({ hook: "layers.0.attn.q_proj", group: 0 }).weight);
 * // "layers.0.attn.q_proj.0.gate.weight"
 * ```
 */
export function checkpointGateNames(
  m: Pick<ExpertModule, "hook" | "group">,
): { weight: string; bias: string } {
  const p = `${m.hook}.${m.group}.gate`;
  return { weight: `${p}.weight`, bias: `${p}.bias` };
}

/**
 * The runtime input carrying group `g`'s per-row expert mask (`[batch, E]`, 1 active / 0 not).
 *
 * @example
 * ```ts
 * import { maskInputName } from "./adapter_layout.ts";
 * console.log(maskInputName(1)); // "hirpf.mask.g1"
 * ```
 */
export function maskInputName(group: number): string {
  return `hirpf.mask.g${group}`;
}

/**
 * The runtime input carrying a hook's dropout mask while training (`[batch, seq, in]`, values 0
 * or `1 / (1 - p)`).
 *
 * @example
 * ```ts
 * import { dropoutInputName } from "./adapter_layout.ts";
 * console.log(dropoutInputName("layers.0.attn.q_proj")); // "hirpf.dropout.layers.0.attn.q_proj"
 * ```
 */
export function dropoutInputName(hook: string): string {
  return `hirpf.dropout.${hook}`;
}
