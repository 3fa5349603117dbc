/**
 * The `persona_vectors` plugin object: options (spec B10 defaults), the persona-vector steerer,
 * trait and coherence judges, the preventative-steering trainer (the `lora` trainer with the
 * plugin's steering config) and the CLI commands.
 *
 * @module
 */

import { join } from "node:path";
import type { Judge } from "../../core/contracts/judge.ts";
import type { Plugin, PluginRoles } from "../../core/contracts/plugin.ts";
import type { SteeringEntry } from "../../core/contracts/steerer.ts";
import type { Trainer } from "../../core/contracts/trainer.ts";
import { withCode } from "../../core/errors.ts";
import { createLoraTrainer } from "../lora/mod.ts";
import { PERSONA_VECTORS_COMMANDS } from "./commands/mod.ts";
import { COHERENCE_PROMPT } from "./judge_prompts.ts";
import { type PersonaVectorsOptions, PersonaVectorsOptionsSchema } from "./options.ts";
import { withPaperDefaults } from "./paper_training.ts";
import { PROJECTIONS_EXTENSION, withProjections } from "./projection_model.ts";
import { personaVectorSteerer } from "./steering.ts";
import {
  loadTraitArtifact,
  SHIPPED_TRAITS,
  SHIPPED_TRAITS_DIR,
  traitBaseName,
} from "./trait_artifact.ts";
import { logprobJudge } from "./trait_judge.ts";

function entriesOf(config: Record<string, unknown>, o: PersonaVectorsOptions): SteeringEntry[] {
  const raw = Array.isArray(config.entries) ? config.entries : [config];
  return raw.map((e: Record<string, unknown>, i: number) => {
    if (typeof e.vector !== "string" || e.vector === "") {
      throw withCode(
        new TypeError(
          `persona_vectors steerer entry ${i} has vector ${
            JSON.stringify(e.vector)
          }; pass a vector ` +
            'file path or registered name, e.g. {vector: "runs/optimistic_response_avg_diff.safetensors"}',
        ),
        "E_CONFIG",
      );
    }
    return {
      vector: e.vector,
      coefficient: typeof e.coefficient === "number" ? e.coefficient : o.coefficient,
      layer: typeof e.layer === "number" ? e.layer : o.layer,
      positions: (e.positions as SteeringEntry["positions"]) ?? o.positions,
      type: (e.type as SteeringEntry["type"]) ?? "add",
    };
  });
}

/**
 * The preventative-steering trainer: the `lora` trainer with `steering` filled from the plugin's
 * `preventative` options and the request config's `vector`, and the paper's training configuration
 * (`PAPER_TRAINING_CONFIG`) under the other config fields, which go to the lora trainer and win
 * (an explicit `steering` list wins too).
 *
 * @example
 * ```ts ignore
 * import { preventativeTrainer } from "./plugin.ts";
 * import { PersonaVectorsOptionsSchema } from "./options.ts";
 * const t = preventativeTrainer(PersonaVectorsOptionsSchema.parse({}));
 * await t.train({ model: "./tiny", data: "d.jsonl", out: "runs/p", config: { vector: "v.safetensors", steps: 4 } });
 * ```
 */
export function preventativeTrainer(o: PersonaVectorsOptions): Trainer {
  const lora = createLoraTrainer();
  return {
    name: "preventative",
    async train(request) {
      const { vector, ...rest } = (request.config ?? {}) as Record<string, unknown>;
      if (rest.steering === undefined && (typeof vector !== "string" || vector === "")) {
        throw withCode(
          new TypeError(
            `preventative trainer config.vector is ${
              JSON.stringify(vector)
            }; pass the persona vector file to steer with`,
          ),
          "E_CONFIG",
        );
      }
      const steering = rest.steering ?? o.preventative.layers.map((layer) => ({
        vector,
        coefficient: o.preventative.coefficient,
        layer,
        type: o.preventative.type,
      }));
      return await lora.train({ ...request, config: { ...withPaperDefaults(rest), steering } });
    },
  };
}

/**
 * The plugin.
 *
 * @example
 * ```ts
 * import { personaVectors } from "./plugin.ts";
 * const plugin = personaVectors();
 * const roles = await plugin.create(plugin.options.parse({}));
 * console.log(Object.keys(roles.judges ?? {}).slice(0, 2)); // ["trait", "coherence"]
 * ```
 */
export function personaVectors(): Plugin<PersonaVectorsOptions> {
  return personaVectorsPlugin;
}

const personaVectorsPlugin: Plugin<PersonaVectorsOptions> = {
  name: "persona_vectors",
  version: "0.1.0",
  description:
    "Persona vectors: contrastive rollouts, judged filtering, per-layer vectors, steering, projection, " +
    "finetuning shift, preventative steering, multi-persona geometry and interference.",
  options: PersonaVectorsOptionsSchema,
  provides: ["steerer", "judge", "trainer"],
  async create(o): Promise<PluginRoles> {
    const judge = (name: string, template: string) =>
      logprobJudge({
        name,
        template,
        mode: o.judge_mode,
        topLogprobs: o.judge_top_logprobs,
        seed: o.seed,
        minMass: o.judge_min_mass,
      });
    const load = (ref: string) =>
      loadTraitArtifact(
        SHIPPED_TRAITS.includes(ref) ? join(SHIPPED_TRAITS_DIR, `${ref}.json`) : ref,
      );
    const main = await load(o.trait);
    // deno-lint-ignore no-explicit-any
    const judges: Record<string, Judge<any, any>> = {
      trait: judge(traitBaseName(main.trait), main.eval_prompt),
      coherence: judge("coherence", COHERENCE_PROMPT),
    };
    for (const t of SHIPPED_TRAITS) judges[t] = judge(t, (await load(t)).eval_prompt);
    return {
      steerers: {
        persona_vectors: (config) =>
          personaVectorSteerer({ name: "persona_vectors", entries: entriesOf(config, o) }),
      },
      judges,
      trainers: { preventative: preventativeTrainer(o) },
    };
  },
  commands: PERSONA_VECTORS_COMMANDS,
  requestExtensions: [PROJECTIONS_EXTENSION],
  // Every local model the host builds answers the `projections` request extension.
  wrapLocalModel: (model, engine, services) => withProjections(model, engine, services.vectors),
};

export default personaVectorsPlugin;
