/**
 * The host verbs of DESIGN §5, in the order `--help` lists them.
 *
 * @module
 */

import type { HostVerb } from "../verb.ts";
import { pendingVerb } from "./pending.ts";
import { pluginsVerb } from "./plugins.ts";
import { createRunVerb } from "./run.ts";
import { mergeVerb } from "./merge.ts";
import { hostModelFactory } from "../model_factory.ts";
import { startVerb } from "./start.ts";

/** Every host verb. */
export const HOST_VERBS: HostVerb[] = [
  startVerb,
  pluginsVerb,
  pendingVerb("model", "Create a tiny model in Hugging Face layout (model new).", "[engine]", [
    "new",
    "<dir>",
  ]),
  pendingVerb("generate", "Generate text from a model or persona.", "[engine]"),
  pendingVerb("train", "Train an adapter with a plugin's trainer.", "[train]"),
  createRunVerb({ modelFactory: hostModelFactory() }),
  mergeVerb,
  pendingVerb("serve", "Serve personas behind an OpenAI-compatible endpoint.", "[serve]"),
  pendingVerb("bench", "Run a benchmark suite and print ratios against its peer.", "[engine]", [
    "<suite>",
  ]),
  pendingVerb("setup-cuda", "Fetch onnxruntime-node's CUDA libraries (needs network).", "[engine]"),
];
