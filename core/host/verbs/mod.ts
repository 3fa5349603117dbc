/**
 * The core host verbs of DESIGN §5, in the order `--help` lists them (the repository's `main.ts`
 * adds `bench`, which lives with the benchmarks).
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
import { createServeVerb } from "./serve.ts";
import { startVerb } from "./start.ts";
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
  createRunVerb(),
  mergeVerb,
  submitVerb,
  createServeVerb(),
  humanEvalVerb,
  setupCudaVerb,
];
