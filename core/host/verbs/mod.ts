/**
 * The host verbs of DESIGN §5, in the order `--help` lists them.
 *
 * @module
 */

import type { HostVerb } from "../verb.ts";
import { pluginsVerb } from "./plugins.ts";
import { modelVerb } from "./model.ts";
import { generateVerb } from "./generate.ts";
import { setupCudaVerb } from "./setup_cuda.ts";
import { createRunVerb } from "./run.ts";
import { mergeVerb } from "./merge.ts";
import { submitVerb } from "./submit.ts";
import { hostModelFactory, personaBackend } from "../model_factory.ts";
import { createServeVerb } from "./serve.ts";
import { startVerb } from "./start.ts";
import { benchVerb } from "./bench.ts";
import { trainVerb } from "./train.ts";
import { dataVerb } from "./data.ts";
import { humanEvalVerb } from "./human_eval.ts";

/** Every host verb. */
export const HOST_VERBS: HostVerb[] = [
  startVerb,
  pluginsVerb,
  modelVerb,
  generateVerb,
  trainVerb,
  dataVerb,
  createRunVerb({ modelFactoryFor: (ctx) => hostModelFactory({}, ctx.registry) }),
  mergeVerb,
  submitVerb,
  createServeVerb({
    backend: (persona, ctx, resources) => personaBackend(resources, ctx.registry)(persona),
  }),
  benchVerb,
  humanEvalVerb,
  setupCudaVerb,
];
