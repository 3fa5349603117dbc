/**
 * HIS dialogues as the core trainer's conversations: each record becomes `[system, user,
 * assistant, …]` messages (the record's own system turn, or the identity prompt built from its
 * labels, spec A3) with its canonical identities attached, so every micro-batch row carries the
 * identities the adapter's masks are made from. A trailing unanswered user turn (248 of the 685
 * released test dialogues end on one) is trimmed by the core rule every trainer uses
 * (`trimTrailingUserTurns`) and counted.
 *
 * @module
 */

import { join } from "node:path";
import {
  type ChatDataset,
  type Conversation,
  type TrimmedRecord,
  trimTrailingUserTurns,
} from "../../core/train/chat_data.ts";
import { withCode } from "../../core/errors.ts";
import { type HisDatasetOptions, type HisRecord, loadHisDatasetReport } from "./his_dataset.ts";

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
  trimmed: TrimmedRecord[] = [],
): Conversation[] {
  const file = options.source ?? "HIS dataset";
  const out: Conversation[] = [];
  for (const r of records) {
    const kept = trimTrailingUserTurns(r.turns);
    const messages: Conversation["messages"] = [];
    if (options.systemPrompt !== false && r.system) {
      messages.push({ role: "system", content: r.system });
    }
    for (const t of kept.messages) messages.push({ role: t.role, content: t.content.trim() });
    const source = { file, line: r.line, record: r.index };
    if (kept.trimmed > 0) trimmed.push({ source, turns: kept.trimmed });
    if (!messages.some((m) => m.role === "assistant")) continue;
    out.push({ messages, source, identities: [...r.identities] });
  }
  return out;
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
  return (await loadHisConversationsReport(path, { strict: true, ...options })).conversations;
}

/**
 * Loads one HIS file as trainer conversations with what was skipped (contradictory labels, unless
 * `strict`) and trimmed (trailing user turns), each with file, line and record index.
 *
 * @example
 * ```ts
 * import { loadHisConversationsReport } from "./his_conversations.ts";
 * const d = await loadHisConversationsReport("../shared/upstream/his/data/test.json");
 * console.log(d.conversations.length, d.skipped.length, d.trimmed.length); // 675 10 …
 * ```
 */
export async function loadHisConversationsReport(
  path: string,
  options: HisConversationOptions & Pick<HisDatasetOptions, "professions" | "strict"> = {},
): Promise<ChatDataset> {
  const report = await loadHisDatasetReport(path, {
    professions: options.professions,
    strict: options.strict,
  });
  const trimmed: TrimmedRecord[] = [];
  const conversations = hisConversations(report.records, { ...options, source: path }, trimmed);
  return { conversations, skipped: report.skipped, trimmed };
}
