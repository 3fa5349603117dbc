/**
 * The configuration of an identity-expert adapter ({@link IdentityAdapterConfig}): which experts
 * exist, how their groups sit on decoder blocks, the LoRA hyper-parameters and which parameters
 * are trained. Defaults follow spec A5 (alternate insertion, hard mask on, trainable gates,
 * r = alpha = 16, dropout 0.05, q/k/v/o).
 *
 * @module
 */

import { withCode } from "../../core/errors.ts";
import {
  DEFAULT_PROFESSIONS,
  identityGroups,
  INSERT_MODES,
  type InsertMode,
  validateProfessions,
} from "./identities.ts";
import type { HirpfOptions } from "./options.ts";

/** The attention projections an identity adapter may target. */
export const IDENTITY_TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj"] as const;
/** One attention projection name. */
export type IdentityTargetModule = typeof IDENTITY_TARGET_MODULES[number];

/** What to do with a requested identity that is not in the adapter's pool. */
export type UnknownIdentityPolicy = "error" | "drop";

/**
 * How the hard mask enters the gate logits.
 * - `multiply` (spec A4, the released 8-bit module): `z_e = sigmoid(G·x + b)_e · (m_e ? 1 : −5e4)`.
 *   An inactive expert whose sigmoid underflows (gate logit below about −10) gets `z ≈ 0` and
 *   leaks into the mix.
 * - `exclude` (default): `z_e = m_e ? sigmoid(G·x + b)_e : −5e4`, so inactive experts always get
 *   weight 0; equal to `multiply` (to float precision) whenever no inactive sigmoid is tiny.
 */
export type MaskMode = "multiply" | "exclude";

/** Options of an identity adapter; every field has a default. */
export interface IdentityAdapterOptions {
  /** Profession experts (default Doctor, Artist, Programmer). */
  professions?: readonly string[];
  /** How groups map onto decoder blocks (default `alternate`). */
  insertMode?: InsertMode;
  /** Hard identity mask (default true); false lets every expert of a group contribute. */
  sparse?: boolean;
  /** Train the gate weights and biases too (default true). */
  trainGates?: boolean;
  /** How the hard mask enters the gate logits (default `exclude`; `multiply` is the spec formula). */
  maskMode?: MaskMode;
  /** LoRA rank (default 16). */
  r?: number;
  /** LoRA scale numerator; the delta is scaled by `alpha / r` (default 16). */
  alpha?: number;
  /** Dropout probability on the LoRA input while training (default 0.05). */
  dropout?: number;
  /** Attention projections to adapt (default q, k, v, o). */
  targetModules?: readonly IdentityTargetModule[];
  /** Base model id or path, recorded in checkpoints (default null). */
  baseModel?: string | null;
  /** Unknown requested identities: `error` (default) or `drop` (the released code's behaviour). */
  unknownIdentities?: UnknownIdentityPolicy;
}

/** A fully resolved, validated adapter configuration. */
export interface IdentityAdapterConfig {
  professions: string[];
  insertMode: InsertMode;
  /** The expert groups (`adapter_names`): `identityGroups(insertMode, professions)`. */
  groups: string[][];
  sparse: boolean;
  trainGates: boolean;
  maskMode: MaskMode;
  r: number;
  alpha: number;
  dropout: number;
  targetModules: IdentityTargetModule[];
  baseModel: string | null;
  unknownIdentities: UnknownIdentityPolicy;
}

function bad(message: string): RangeError {
  return withCode(new RangeError(message), "E_CONFIG");
}

/**
 * Fills defaults and validates adapter options; errors state the value and the fix.
 *
 * @example
 * ```ts
 * import { resolveIdentityAdapterConfig } from "./adapter_config.ts";
 * const c = resolveIdentityAdapterConfig({ insertMode: "flat", r: 4 });
 * console.log(c.groups.length, c.groups[0].length, c.alpha); // 1 13 16
 * ```
 */
export function resolveIdentityAdapterConfig(
  options: IdentityAdapterOptions = {},
): IdentityAdapterConfig {
  const professions = [...(options.professions ?? DEFAULT_PROFESSIONS)];
  validateProfessions(professions);
  const insertMode = options.insertMode ?? "alternate";
  if (!(INSERT_MODES as readonly string[]).includes(insertMode)) {
    throw bad(`insertMode is ${JSON.stringify(insertMode)}; use one of ${INSERT_MODES.join(", ")}`);
  }
  const r = options.r ?? 16;
  if (!Number.isInteger(r) || r < 1) throw bad(`r is ${r}; pass a whole number >= 1`);
  const alpha = options.alpha ?? 16;
  if (typeof alpha !== "number" || !Number.isFinite(alpha) || alpha <= 0) {
    throw bad(`alpha is ${alpha}; pass a finite number > 0`);
  }
  const dropout = options.dropout ?? 0.05;
  if (typeof dropout !== "number" || !(dropout >= 0 && dropout < 1)) {
    throw bad(`dropout is ${dropout}; pass a probability in [0, 1)`);
  }
  const targetModules = [...(options.targetModules ?? IDENTITY_TARGET_MODULES)];
  if (targetModules.length === 0) {
    throw bad(`targetModules is empty; list at least one of ${IDENTITY_TARGET_MODULES.join(", ")}`);
  }
  for (const t of targetModules) {
    if (!(IDENTITY_TARGET_MODULES as readonly string[]).includes(t)) {
      throw bad(
        `targetModules has ${JSON.stringify(t)}; identity experts attach to ${
          IDENTITY_TARGET_MODULES.join(", ")
        } only`,
      );
    }
  }
  if (new Set(targetModules).size !== targetModules.length) {
    throw bad(`targetModules lists a module twice (${targetModules.join(", ")}); list each once`);
  }
  const unknownIdentities = options.unknownIdentities ?? "error";
  if (unknownIdentities !== "error" && unknownIdentities !== "drop") {
    throw bad(`unknownIdentities is ${JSON.stringify(unknownIdentities)}; use "error" or "drop"`);
  }
  const maskMode = options.maskMode ?? "exclude";
  if (maskMode !== "multiply" && maskMode !== "exclude") {
    throw bad(`maskMode is ${JSON.stringify(maskMode)}; use "multiply" or "exclude"`);
  }
  const baseModel = options.baseModel ?? null;
  if (baseModel !== null && typeof baseModel !== "string") {
    throw bad(`baseModel is ${JSON.stringify(baseModel)}; pass a model id, a path or null`);
  }
  // Keep the canonical q, k, v, o order whatever order the caller listed.
  const ordered = IDENTITY_TARGET_MODULES.filter((t) => targetModules.includes(t));
  return {
    professions,
    insertMode,
    groups: identityGroups(insertMode, professions),
    sparse: options.sparse ?? true,
    trainGates: options.trainGates ?? true,
    maskMode,
    r,
    alpha,
    dropout,
    targetModules: ordered,
    baseModel,
    unknownIdentities,
  };
}

/**
 * Adapter options from the plugin's validated (snake_case) options.
 *
 * @example
 * ```ts
 * import { HirpfOptionsSchema } from "./options.ts";
 * import { adapterOptionsFromHirpf } from "./adapter_config.ts";
 * const o = adapterOptionsFromHirpf(HirpfOptionsSchema.parse({ insert_mode: "layered" }));
 * console.log(o.insertMode, o.trainGates); // layered true
 * ```
 */
export function adapterOptionsFromHirpf(
  options: HirpfOptions,
  baseModel: string | null = null,
): IdentityAdapterOptions {
  return {
    professions: options.professions,
    insertMode: options.insert_mode,
    sparse: options.sparse,
    trainGates: options.train_gates,
    r: options.r,
    alpha: options.alpha,
    dropout: options.dropout,
    targetModules: options.target_modules,
    maskMode: options.mask_mode,
    baseModel,
  };
}
