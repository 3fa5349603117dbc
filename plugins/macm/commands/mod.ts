/**
 * The macm plugin's CLI commands, in `--help` order.
 *
 * @module
 */

import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { addMemoryCommand } from "./add_memory.ts";
import { askCommand } from "./ask.ts";
import { bandwagonCommand } from "./bandwagon.ts";
import { biographyCommand } from "./biography.ts";
import { buildMemoryCommand } from "./build_memory.ts";
import { importCommand } from "./import.ts";
import { jungTestCommand } from "./jung_test.ts";
import { lifeStoryCommand } from "./life_story.ts";
import { newCharacterCommand } from "./new_character.ts";
import { questionnaireCommand } from "./questionnaire.ts";

/** Every macm command. */
export const MACM_COMMANDS: PluginCommand[] = [
  newCharacterCommand,
  importCommand,
  biographyCommand,
  lifeStoryCommand,
  buildMemoryCommand,
  addMemoryCommand,
  askCommand,
  questionnaireCommand,
  jungTestCommand,
  bandwagonCommand,
];
