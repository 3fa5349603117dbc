/**
 * The host verbs of DESIGN §5, in the order `--help` lists them.
 *
 * @module
 */

import type { HostVerb } from "../verb.ts";
import { pendingVerb } from "./pending.ts";
import { pluginsVerb } from "./plugins.ts";
import { modelVerb } from "./model.ts";
import { generateVerb } from "./generate.ts";
import { setupCudaVerb } from "./setup_cuda.ts";
import { createRunVerb } from "./run.ts";
import { mergeVerb } from "./merge.ts";
import { hostModelFactory, personaBackend } from "../model_factory.ts";
import { createServeVerb } from "./serve.ts";
import { startVerb } from "./start.ts";

/** Every host verb. */
export const HOST_VERBS: HostVerb[] = [
  startVerb,
  pluginsVerb,
  modelVerb,
  generateVerb,
  pendingVerb("train", "Train an adapter with a plugin's trainer.", "[train]"),
  createRunVerb({ modelFactoryFor: (ctx) => hostModelFactory({}, ctx.registry) }),
  mergeVerb,
  createServeVerb({ backend: (persona, ctx) => personaBackend({}, ctx.registry)(persona) }),
  pendingVerb("bench", "Run a benchmark suite and print ratios against its peer.", "[engine]", [
    "<suite>",
  ]),
  setupCudaVerb,
];
