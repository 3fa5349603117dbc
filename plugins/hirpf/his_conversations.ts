/**
 * HIS dialogues as the core trainer's conversations: each record becomes `[system, user,
 * assistant, …]` messages (the record's own system turn, or the identity prompt built from its
 * labels, spec A3) with its canonical identities attached, so every micro-batch row carries the
 * identities the adapter's masks are made from. A trailing unpaired user turn is dropped, as the
 * released serialization drops it.
 *
 * @module
 */

import { join } from "node:path";
import type { Conversation } from "../../core/train/chat_data.ts";
import { withCode } from "../../core/errors.ts";
import { type HisDatasetOptions, type HisRecord, loadHisDataset } from "./his_dataset.ts";

/** Options of {@link hisConversations}. */
export interface HisConversationOptions {
  /** Put the identity system prompt in front (default true); false trains without it. */
  systemPrompt?: boolean;
  /** File named in record sources (default `"HIS dataset"`). */
  source?: string;
}

/**
 * Turns validated HIS records into trainer conversations.
 *
 * @example
 * ```ts
 * import { parseHisDataset } from "./his_dataset.ts";
 * import { hisConversations } from "./his_conversations.ts";
 * const recs = parseHisDataset([{ dialog: [{ role: "user", content: "Hi" },
 *   { role: "assistant", content: "Hello!" }], active_adapters: ["EMS_high"] }]);
 * const [c] = hisConversations(recs);
 * console.log(c.identities, c.messages[0].role); // ["NEU_low"] "system"
 * ```
 */
export function hisConversations(
  records: readonly HisRecord[],
  options: HisConversationOptions = {},
): Conversation[] {
  const file = options.source ?? "HIS dataset";
  return records.map((r, i) => {
    const turns = r.turns.length % 2 === 1 ? r.turns.slice(0, -1) : r.turns;
    const messages: Conversation["messages"] = [];
    if (options.systemPrompt !== false && r.system) {
      messages.push({ role: "system", content: r.system });
    }
    for (const t of turns) messages.push({ role: t.role, content: t.content.trim() });
    // Sources count records from 1 (the trainer's messages say "file:N").
    return { messages, source: { file, line: i + 1 }, identities: [...r.identities] };
  }).filter((c) => c.messages.some((m) => m.role === "assistant"));
}

/** The files of a HIS dataset folder. */
export interface HisDataFiles {
  train: string;
  /** `test.json` when the folder has one. */
  test?: string;
}

/**
 * Finds `train.json` (and `test.json`) in a dataset folder, or takes a single JSON file as the
 * training file. A missing file is a RangeError naming the path and the expected layout.
 *
 * @example
 * ```ts
 * import { hisDataFiles } from "./his_conversations.ts";
 * const f = await hisDataFiles("plugins/hirpf/data/dialogues");
 * console.log(f.train.endsWith("train.json"), f.test?.endsWith("test.json")); // true true
 * ```
 */
export async function hisDataFiles(path: string): Promise<HisDataFiles> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch {
    throw withCode(
      new RangeError(
        `--data ${path} does not exist; pass a folder with train.json (and test.json) in the HIS ` +
          `format, or one such JSON file`,
      ),
      "E_DATA",
    );
  }
  if (stat.isFile) return { train: path };
  const exists = async (p: string) => (await Deno.stat(p).catch(() => null))?.isFile === true;
  const train = join(path, "train.json");
  if (!(await exists(train))) {
    throw withCode(
      new RangeError(
        `--data ${path} has no train.json; a HIS dataset folder holds train.json and optionally ` +
          `test.json, each a JSON array of {"dialog": [...], "active_adapters": [...]}`,
      ),
      "E_DATA",
    );
  }
  const test = join(path, "test.json");
  return (await exists(test)) ? { train, test } : { train };
}

/**
 * Loads one HIS file as trainer conversations.
 *
 * @example
 * ```ts
 * import { loadHisConversations } from "./his_conversations.ts";
 * const c = await loadHisConversations("plugins/hirpf/data/dialogues/test.json");
 * console.log(c.length, c[0].identities);
 * ```
 */
export async function loadHisConversations(
  path: string,
  options: HisConversationOptions & Pick<HisDatasetOptions, "professions"> = {},
): Promise<Conversation[]> {
  const records = await loadHisDataset(path, { professions: options.professions });
  return hisConversations(records, { ...options, source: path });
}
