/**
 * The persona_vectors CLI commands (`deno task dramatis persona_vectors <command>`), in the order
 * of the pipeline.
 *
 * @module
 */

import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { combineCommand } from "./combine.ts";
import { cosineCommand } from "./cosine.ts";
import { evalCheckpointsCommand } from "./eval_checkpoints.ts";
import { extractCommand } from "./extract.ts";
import { finetuneCommand } from "./finetune.ts";
import { generateFinetuneDataCommand } from "./generate_finetune_data.ts";
import { generateTraitCommand } from "./generate_trait.ts";
import { interferenceCommand } from "./interference.ts";
import { judgeCommand } from "./judge.ts";
import { projectCommand } from "./project.ts";
import { rolloutsCommand } from "./rollouts.ts";
import { steerCommand } from "./steer.ts";
import { sweepCommand } from "./sweep.ts";
import { trainPreventativeCommand } from "./train_preventative.ts";

/** Every command of the plugin. */
export const PERSONA_VECTORS_COMMANDS: PluginCommand[] = [
  generateTraitCommand,
  rolloutsCommand,
  judgeCommand,
  extractCommand,
  steerCommand,
  projectCommand,
  trainPreventativeCommand,
  generateFinetuneDataCommand,
  finetuneCommand,
  evalCheckpointsCommand,
  sweepCommand,
  cosineCommand,
  interferenceCommand,
  combineCommand,
];
