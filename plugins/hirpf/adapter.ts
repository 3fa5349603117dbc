/**
 * The identity-expert (HIS / HIRPF MoE-LoRA) adapter of spec A4 as a Dramatis {@link Adapter}.
 *
 * At each target hook `layers.{i}.attn.{q,k,v,o}_proj` and for each group g hosted by block i
 * (`groupsForLayer`), with x the hook input of one token and m the row's 0/1 expert mask:
 *
 * ```
 * z_e   = m_e ? sigmoid(G_g[e]·x + b_g[e]) : −5e4         # maskMode "exclude" (default)
 * z_e   = sigmoid(G_g[e]·x + b_g[e]) · (m_e ? 1 : −5e4)     # maskMode "multiply" (spec A4)
 * w     = softmax_e(z) · any(m) · alpha/r             # any(m) = 0 → the group adds nothing
 * delta = Σ_e w_e · B_e A_e dropout(x)                # two MatMuls over the stacked experts
 * y     = W x (+ bias) + Σ_g delta_g                   # layered: the groups' deltas summed
 * ```
 *
 * Masks are runtime inputs per batch row (`hirpf.mask.g{g}`, `[batch, |g|]`), broadcast over
 * positions, so rows of one batch may carry different identity sets. Dropout exists only in
 * training mode ({@link IdentityAdapter.setTraining}), as runtime masks `hirpf.dropout.{hook}`
 * (the graph has no random ops); one mask per hook is shared by the experts and groups there,
 * where per-expert PEFT modules would each draw their own. The gate sees the undropped input.
 *
 * Trainable parameters: every parameter is a graph input; {@link IdentityAdapter.trainableParameters}
 * lists the ones to differentiate (LoRA A and B, plus the gates when `trainGates`). Pass it as
 * `trainable` to `buildTrainGraph`; frozen gates are then fed like constants and get no gradient.
 * Each tensor of {@link IdentityAdapter.parameters} also carries a `trainable` flag.
 *
 * @module
 */

import type {
  Adapter,
  AdapterGraphOps,
  AdapterRuntimeRequest,
  AdapterTensor,
  LinearHook,
  RuntimeTensor,
} from "../../core/contracts/adapter.ts";
import { withCode } from "../../core/errors.ts";
import type { DecoderConfig } from "../../core/model/config.ts";
import { decoderHooks } from "../../core/model/decoder_graph.ts";
import { Prng } from "../../core/util/prng.ts";
import {
  type IdentityAdapterConfig,
  type IdentityAdapterOptions,
  resolveIdentityAdapterConfig,
} from "./adapter_config.ts";
import {
  checkpointExpertNames,
  checkpointGateNames,
  dropoutInputName,
  type ExpertModule,
  expertModules,
  maskInputName,
  numLayersOfHooks,
  parameterNames,
} from "./adapter_layout.ts";
import { dropoutMasks, identityMasks } from "./adapter_runtime.ts";
import {
  checkpointToModule,
  type Float32Tensor,
  initModuleParameters,
  moduleToCheckpoint,
  orderedParameterNames,
} from "./adapter_tensors.ts";
import { readIdentityCheckpoint, writeIdentityCheckpoint } from "./checkpoint.ts";
import { HARD_MASK_VALUE } from "./gate_math.ts";

/** An adapter parameter with its trainable flag. */
export interface IdentityAdapterTensor extends AdapterTensor {
  /** False for gate tensors when `trainGates` is off. */
  trainable: boolean;
}

/** A runtime request; training mode also needs the padded sequence length. */
export interface IdentityRuntimeRequest extends AdapterRuntimeRequest {
  /** Padded sequence length of the batch (training mode: sizes the dropout masks). */
  sequenceLength?: number;
  /** Seed of the dropout masks (default 0); vary it per step. */
  seed?: number;
}

/** A runtime feed of the identity adapter: always float32 (0/1 masks, dropout scales). */
export interface IdentityRuntimeTensor extends RuntimeTensor {
  dtype: "float32";
  data: Float32Array;
}

/** Options of {@link IdentityAdapter.create}. */
export interface IdentityAdapterCreateOptions extends IdentityAdapterOptions {
  /** Seed of the initial A and gate weights (default 0). */
  seed?: number;
}

function hooksOf(model: DecoderConfig | readonly LinearHook[]): LinearHook[] {
  return Array.isArray(model)
    ? (model as readonly LinearHook[]).map((h) => ({ ...h }))
    : decoderHooks(model as DecoderConfig);
}

/**
 * Identity experts: one LoRA expert per identity at every target module, mixed by a gated,
 * hard-masked router per group.
 *
 * @example
 * ```ts
 * import { IdentityAdapter } from "./adapter.ts";
 * import { decoderHooks } from "../../core/model/decoder_graph.ts";
 * import type { DecoderConfig } from "../../core/model/config.ts";
 * declare const config: DecoderConfig;
 * const adapter = IdentityAdapter.create(config, { insertMode: "alternate", r: 8 });
 * const feeds = adapter.runtimeInputs({
 *   batchSize: 2,
 *   extensions: { identities: [["Doctor", "EXT_high"], []] },
 * });
 * console.log(adapter.targets(decoderHooks(config)).length, Object.keys(feeds));
 * ```
 */
export class IdentityAdapter implements Adapter {
  /** Adapter kind. */
  readonly kind = "hirpf";
  /** Reads the `identities` request extension (one list of identity names per batch row). */
  readonly requestExtensions: readonly string[] = ["identities"];
  #config: IdentityAdapterConfig;
  #numLayers: number;
  #modules: ExpertModule[];
  #byHook = new Map<string, ExpertModule[]>();
  #params = new Map<string, IdentityAdapterTensor>();
  #training = false;

  private constructor(
    config: IdentityAdapterConfig,
    numLayers: number,
    modules: ExpertModule[],
    params: (m: ExpertModule) => {
      loraA: Float32Tensor;
      loraB: Float32Tensor;
      gateWeight: Float32Tensor;
      gateBias: Float32Tensor;
    },
  ) {
    this.#config = config;
    this.#numLayers = numLayers;
    this.#modules = modules;
    for (const m of modules) {
      const list = this.#byHook.get(m.hook) ?? [];
      list.push(m);
      this.#byHook.set(m.hook, list);
      const p = params(m);
      const names = parameterNames(m);
      const add = (name: string, t: Float32Tensor, trainable: boolean) =>
        this.#params.set(name, { name, shape: [...t.shape], data: t.data, trainable });
      add(names.loraA, p.loraA, true);
      add(names.loraB, p.loraB, true);
      add(names.gateWeight, p.gateWeight, config.trainGates);
      add(names.gateBias, p.gateBias, config.trainGates);
    }
  }

  /**
   * A freshly initialised adapter (spec A4: A Kaiming-uniform, B zero, default-Linear gates) for a
   * decoder given by its config or its hooks (`decoderHooks(config)`).
   *
   * @example
   * ```ts
   * import { IdentityAdapter } from "./adapter.ts";
   * import type { DecoderConfig } from "../../core/model/config.ts";
   * declare const config: DecoderConfig;
   * const a = IdentityAdapter.create(config, { insertMode: "flat", trainGates: false, seed: 3 });
   * console.log(a.trainableParameters().length);
   * ```
   */
  static create(
    model: DecoderConfig | readonly LinearHook[],
    options: IdentityAdapterCreateOptions = {},
  ): IdentityAdapter {
    const config = resolveIdentityAdapterConfig(options);
    const hooks = hooksOf(model);
    const rng = new Prng(options.seed ?? 0);
    return new IdentityAdapter(
      config,
      numLayersOfHooks(hooks),
      expertModules(config, hooks),
      (m) => initModuleParameters(m, config.r, rng),
    );
  }

  /**
   * An adapter from per-expert checkpoint tensors (names and shapes as `adapter_layout.ts`
   * documents). Every shape is checked against the hooks; `source` names the file in errors.
   *
   * @example
   * ```ts
   * import { IdentityAdapter } from "./adapter.ts";
   * import type { DecoderConfig } from "../../core/model/config.ts";
   * declare const config: DecoderConfig;
   * const a = IdentityAdapter.create(config, { r: 4 });
   * const copy = IdentityAdapter.fromCheckpointTensors(config, a.config, a.checkpointTensors());
   * ```
   */
  static fromCheckpointTensors(
    model: DecoderConfig | readonly LinearHook[],
    options: IdentityAdapterOptions,
    tensors: ReadonlyMap<string, Float32Tensor>,
    source = "<tensors>",
  ): IdentityAdapter {
    const config = resolveIdentityAdapterConfig(options);
    const hooks = hooksOf(model);
    const modules = expertModules(config, hooks);
    const expected = new Set<string>();
    for (const m of modules) {
      for (const name of moduleToCheckpointNames(m)) expected.add(name);
    }
    for (const name of tensors.keys()) {
      if (!expected.has(name)) {
        throw withCode(
          new RangeError(
            `${source}: tensor "${name}" is not part of this adapter (insert mode ${config.insertMode}, ` +
              `targets ${config.targetModules.join(", ")}, ${numLayersOfHooks(hooks)} blocks); ` +
              `check that the config file belongs to these weights`,
          ),
          "E_WEIGHTS",
        );
      }
    }
    return new IdentityAdapter(
      config,
      numLayersOfHooks(hooks),
      modules,
      (m) => checkpointToModule(m, config.r, (n) => tensors.get(n), source),
    );
  }

  /**
   * Loads a checkpoint directory written by {@link IdentityAdapter.save}. With `model`, shapes
   * are checked against that decoder (errors name the file, the tensor and the fix).
   *
   * @example
   * ```ts
   * import { IdentityAdapter } from "./adapter.ts";
   * const a = await IdentityAdapter.load("./runs/his/checkpoint-500");
   * console.log(a.config.insertMode);
   * ```
   */
  static async load(
    dir: string,
    options: { model?: DecoderConfig | readonly LinearHook[] } = {},
  ): Promise<IdentityAdapter> {
    const ckpt = await readIdentityCheckpoint(dir, {
      hooks: options.model ? hooksOf(options.model) : undefined,
    });
    return IdentityAdapter.fromCheckpointTensors(
      ckpt.hooks,
      ckpt.options,
      ckpt.tensors,
      ckpt.weightsFile,
    );
  }

  /** The resolved configuration (a copy; JSON-serialisable). */
  get config(): IdentityAdapterConfig {
    return structuredClone(this.#config);
  }

  /** Decoder blocks the adapter was built for. */
  get numLayers(): number {
    return this.#numLayers;
  }

  /** The (block, projection, group) modules, in parameter order (copies). */
  get modules(): ExpertModule[] {
    return this.#modules.map((m) => ({ ...m, experts: [...m.experts] }));
  }

  /** True while in training mode (dropout masks are graph inputs). */
  get training(): boolean {
    return this.#training;
  }

  /**
   * Switches training mode. Build training graphs after `setTraining(true)`: with dropout > 0 the
   * fragment then reads one dropout mask per hook, fed by {@link IdentityAdapter.runtimeInputs}
   * given `sequenceLength`. Inference graphs are built in the default eval mode.
   */
  setTraining(on: boolean): this {
    this.#training = on;
    return this;
  }

  /** The hooks this adapter attaches to (checks that the decoder matches the adapter's shapes). */
  targets(hooks: LinearHook[]): string[] {
    const byName = new Map(hooks.map((h) => [h.name, h]));
    const n = numLayersOfHooks(hooks);
    if (n !== this.#numLayers) {
      throw withCode(
        new RangeError(
          `the decoder has ${n} blocks but this identity adapter was built for ${this.#numLayers}; ` +
            `use an adapter created for (or trained on) this base model`,
        ),
        "E_PLUGIN_HOOK",
      );
    }
    for (const [name, mods] of this.#byHook) this.#checkHook(byName.get(name), name, mods[0]);
    return [...this.#byHook.keys()];
  }

  #checkHook(hook: LinearHook | undefined, name: string, m: ExpertModule): void {
    if (!hook) {
      throw withCode(
        new RangeError(`the decoder offers no hook "${name}"; the identity adapter needs it`),
        "E_PLUGIN_HOOK",
      );
    }
    if (hook.inFeatures !== m.inFeatures || hook.outFeatures !== m.outFeatures) {
      throw withCode(
        new RangeError(
          `hook ${name} is [in ${hook.inFeatures}, out ${hook.outFeatures}] but the identity adapter ` +
            `was built for [in ${m.inFeatures}, out ${m.outFeatures}]; use an adapter made for this base model`,
        ),
        "E_PLUGIN_HOOK",
      );
    }
  }

  /**
   * Parameters in a stable order (block, projection, group; A, B, gate weight, gate bias). These
   * are the live tensors: a trainer may update `data` in place and {@link IdentityAdapter.save}
   * writes what it finds.
   */
  parameters(): IdentityAdapterTensor[] {
    return this.#modules.flatMap((m) => orderedParameterNames(m).map((n) => this.#params.get(n)!));
  }

  /**
   * Names of the parameters to differentiate: LoRA A and B always, gate weight and bias only when
   * `trainGates` is on. Pass as `trainable` to `buildTrainGraph`.
   *
   * @example
   * ```ts
   * import { IdentityAdapter } from "./adapter.ts";
   * import type { DecoderConfig } from "../../core/model/config.ts";
   * declare const config: DecoderConfig;
   * const a = IdentityAdapter.create(config, { trainGates: false });
   * console.log(a.trainableParameters().every((n) => n.includes(".lora_"))); // true
   * ```
   */
  trainableParameters(): string[] {
    return this.parameters().filter((p) => p.trainable).map((p) => p.name);
  }

  /** Emits `Σ_g delta_g` for the groups hosted at `hook` (see the module docs). */
  emit(hook: LinearHook, input: string, ops: AdapterGraphOps): string {
    const mods = this.#byHook.get(hook.name);
    if (!mods) {
      throw withCode(
        new RangeError(
          `the identity adapter has no experts at hook ${hook.name}; emit only at its targets()`,
        ),
        "E_PLUGIN_HOOK",
      );
    }
    this.#checkHook(hook, hook.name, mods[0]);
    const op1 = (type: string, inputs: string[], attrs?: Record<string, unknown>) =>
      ops.op(type, inputs, attrs)[0];
    const { r, alpha, dropout } = this.#config;
    let x = input;
    if (this.#training && dropout > 0) {
      const mask = ops.runtimeInput(dropoutInputName(hook.name), "float32", [
        "batch_size",
        "sequence_length",
        hook.inFeatures,
      ]);
      x = op1("Mul", [input, mask]);
    }
    let total: string | undefined;
    for (const m of mods) {
      const E = m.experts.length;
      const names = parameterNames(m);
      const At = ops.parameter(names.loraA, [m.inFeatures, E * r]);
      const Bt = ops.parameter(names.loraB, [E * r, m.outFeatures]);
      const Gt = ops.parameter(names.gateWeight, [m.inFeatures, E]);
      const gb = ops.parameter(names.gateBias, [E]);
      const mask = ops.runtimeInput(maskInputName(m.group), "float32", ["batch_size", E]);
      const perExpert = (v: string) => op1("Unsqueeze", [v, ops.constantInt([1], [1])]); // [B, 1, E]
      const sig = op1("Sigmoid", [op1("Add", [op1("MatMul", [input, Gt]), gb])]); // [B, S, E]
      let z: string;
      if (this.#config.maskMode === "multiply") {
        // 1 → 1, 0 → −5e4 exactly: mask·(1 − H) + H.
        const mult = op1("Add", [
          op1("Mul", [mask, ops.constant([1 - HARD_MASK_VALUE], [])]),
          ops.constant([HARD_MASK_VALUE], []),
        ]);
        z = op1("Mul", [sig, perExpert(mult)]);
      } else {
        // 1 → sigmoid, 0 → −5e4 exactly: sigmoid·mask + (1 − mask)·H.
        const off = op1("Mul", [
          op1("Sub", [ops.constant([1], []), mask]),
          ops.constant([HARD_MASK_VALUE], []),
        ]);
        z = op1("Add", [op1("Mul", [sig, perExpert(mask)]), perExpert(off)]);
      }
      const anyActive = op1("ReduceMax", [mask, ops.constantInt([-1], [1])], { keepdims: 1 });
      const rowScale = op1("Unsqueeze", [
        op1("Mul", [anyActive, ops.constant([alpha / r], [])]),
        ops.constantInt([2], [1]),
      ]); // [B, 1, 1]
      const w = op1("Mul", [op1("Softmax", [z], { axis: -1 }), rowScale]);
      const h = op1("Reshape", [op1("MatMul", [x, At]), ops.constantInt([0, 0, E, r], [4])]);
      const hw = op1("Reshape", [
        op1("Mul", [h, op1("Unsqueeze", [w, ops.constantInt([-1], [1])])]),
        ops.constantInt([0, 0, E * r], [3]),
      ]);
      const delta = op1("MatMul", [hw, Bt]);
      total = total === undefined ? delta : op1("Add", [total, delta]);
    }
    return total!;
  }

  /**
   * Runtime feeds for one run: per group a `[batchSize, |g|]` 0/1 mask from each row's sanitized
   * identities (unknown names raise a RangeError naming them and the valid list); in training
   * mode also one dropout mask per hook (needs `sequenceLength`).
   */
  runtimeInputs(request: IdentityRuntimeRequest): Record<string, IdentityRuntimeTensor> {
    const { batchSize } = request;
    const masks = identityMasks(
      this.#config,
      batchSize,
      request.extensions?.identities as readonly (readonly string[] | undefined)[] | undefined,
    );
    const feeds: Record<string, IdentityRuntimeTensor> = {};
    masks.forEach((data, g) => {
      feeds[maskInputName(g)] = {
        dtype: "float32",
        shape: [batchSize, this.#config.groups[g].length],
        data,
      };
    });
    if (this.#training && this.#config.dropout > 0) {
      if (request.sequenceLength === undefined) {
        throw withCode(
          new TypeError(
            "sequenceLength is missing; in training mode the identity adapter feeds dropout masks " +
              "[batch, seq, in] — pass the padded sequence length (or call setTraining(false))",
          ),
          "E_USAGE",
        );
      }
      const S = request.sequenceLength;
      const drop = dropoutMasks(
        this.#modules,
        batchSize,
        S,
        this.#config.dropout,
        request.seed ?? 0,
      );
      for (const m of this.#modules) {
        const data = drop.get(m.hook)!;
        feeds[dropoutInputName(m.hook)] = {
          dtype: "float32",
          shape: [batchSize, S, m.inFeatures],
          data,
        };
      }
    }
    return feeds;
  }

  /**
   * The weights as per-expert checkpoint tensors (PEFT orientation), in a stable order.
   *
   * @example
   * ```ts
   * import { IdentityAdapter } from "./adapter.ts";
   * import type { DecoderConfig } from "../../core/model/config.ts";
   * declare const config: DecoderConfig;
   * const t = IdentityAdapter.create(config).checkpointTensors();
   * console.log(t.get("layers.0.attn.q_proj.0.AGR_high.lora_A")?.shape); // [16, hidden]
   * ```
   */
  checkpointTensors(): Map<string, Float32Tensor> {
    const out = new Map<string, Float32Tensor>();
    for (const m of this.#modules) {
      const n = parameterNames(m);
      const p = {
        loraA: this.#params.get(n.loraA)!,
        loraB: this.#params.get(n.loraB)!,
        gateWeight: this.#params.get(n.gateWeight)!,
        gateBias: this.#params.get(n.gateBias)!,
      };
      for (const [k, v] of moduleToCheckpoint(m, this.#config.r, p)) out.set(k, v);
    }
    return out;
  }

  /** Writes `hirpf_config.json` and `hirpf_model.safetensors` into `dir` (see checkpoint.ts). */
  async save(dir: string): Promise<void> {
    await writeIdentityCheckpoint(dir, {
      config: this.#config,
      numLayers: this.#numLayers,
      tensors: this.checkpointTensors(),
    });
  }
}

function moduleToCheckpointNames(m: ExpertModule): string[] {
  const gate = checkpointGateNames(m);
  return [
    ...m.experts.flatMap((e) => Object.values(checkpointExpertNames(m, e))),
    gate.weight,
    gate.bias,
  ];
}
