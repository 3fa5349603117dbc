/**
 * The HIS dialogue dataset: a JSON array of `{dialog, active_adapters}` records (spec A2).
 * Loading canonicalises `EMS_*` labels to `NEU_*` with the polarity inverted while keeping the
 * original labels for prompt wording, validates every record strictly (errors read
 * `file:LINE: record N: …`, line from 1 and record index from 0 as in every data error), and
 * builds the system prompt when a record has none.
 *
 * The released `test.json` holds 10 records that carry both polarities of one factor (records
 * 120, 139, 193, 240, 310, 361, 362, 392, 416, 467: `EMS_high` with `EMS_low`, or `CON_high` with
 * `CON_low`). {@link parseHisDatasetReport} skips such a record with a counted, indexed
 * `contradictory_labels` skip (the trainer's `--strict` makes it an error instead); every other
 * broken rule is an error.
 *
 * @module
 */

import { withCode } from "../../core/errors.ts";
import {
  parseJsonText,
  recordLines,
  type SkippedRecord,
  sourceLabel,
} from "../../core/train/chat_data.ts";
import { DEFAULT_PROFESSIONS, parseIdentity } from "./identities.ts";
import { canonicalIdentity, MAX_IDENTITIES } from "./sanitize.ts";
import {
  buildSystemPrompt,
  DEFAULT_PROMPT_TEMPLATES,
  type PromptTemplates,
} from "./system_prompt.ts";

/** A dialogue turn. */
export interface HisTurn {
  role: "system" | "user" | "assistant";
  content: string;
}

/** A validated dialogue. */
export interface HisRecord {
  /** User/assistant turns, strictly alternating, starting with user (no system turn). */
  turns: HisTurn[];
  /** The system prompt: the record's own, or built from its labels. */
  system: string;
  /** True when the record carried its own system turn. */
  systemFromData: boolean;
  /** Canonical identity names (`NEU_*`, never `EMS_*`) in the record's order. */
  identities: string[];
  /** The labels as written in the data (kept for prompt wording). */
  labels: string[];
  /** 0-based index of the record in its file. */
  index: number;
  /** 1-based line where the record starts (1 when the text is unknown). */
  line: number;
}

/** Options of {@link parseHisDataset}. */
export interface HisDatasetOptions {
  professions?: readonly string[];
  templates?: PromptTemplates;
  /** Named in error messages (e.g. the file path). */
  source?: string;
  /** Record start lines (from {@link recordLines}); unknown lines print as 1. */
  lines?: readonly number[];
  /**
   * Contradictory identity labels (both polarities of one factor) are an error when true; when
   * false (default of {@link parseHisDatasetReport}) the record is skipped and reported.
   */
  strict?: boolean;
}

/** A located, coded data error for record `index`. */
class HisRecordError extends RangeError {
  constructor(message: string, readonly contradictory = false) {
    super(message);
  }
}

function failAt(
  where: string,
  index: number,
  lines: readonly number[] | undefined,
  message: string,
): never {
  throw withCode(
    new RangeError(
      `${sourceLabel({ file: where, line: lines?.[index] ?? 1, record: index })}${message}`,
    ),
    "E_DATA",
  );
}

/**
 * Validates one `active_adapters` list and returns the canonical names. Rules: every label is a
 * known identity (`EMS_*` accepted), at most one polarity per factor, at most one profession, at
 * most six identities.
 *
 * @example
 * ```ts
 * import { validateIdentityLabels } from "./his_dataset.ts";
 * console.log(validateIdentityLabels(["EMS_high", "Doctor"])); // ["NEU_low", "Doctor"]
 * ```
 */
export function validateIdentityLabels(
  labels: readonly string[],
  professions: readonly string[] = DEFAULT_PROFESSIONS,
): string[] {
  if (labels.length > MAX_IDENTITIES) {
    throw new RangeError(
      `active_adapters has ${labels.length} identities (${labels.join(", ")}); ` +
        `the rule allows at most ${MAX_IDENTITIES} (5 traits + 1 profession), remove some`,
    );
  }
  const out: string[] = [];
  const factors = new Map<string, string>();
  let profession: string | undefined;
  for (const label of labels) {
    const name = canonicalIdentity(label);
    const parsed = parseIdentity(name, professions);
    if (!parsed) {
      throw new RangeError(
        `active_adapters has unknown identity ${JSON.stringify(label)}; use one of ` +
          `{AGR,CON,EXT,NEU,OPE,EMS}_{high,low} or a profession (${professions.join(", ")})`,
      );
    }
    if (parsed.kind === "profession") {
      if (profession !== undefined) {
        throw new RangeError(
          `active_adapters has two professions (${profession}, ${label}); the rule allows at most ` +
            `one profession, keep one`,
        );
      }
      profession = label;
    } else {
      const prev = factors.get(parsed.factor);
      if (prev !== undefined) {
        throw new HisRecordError(
          `active_adapters has two labels for factor ${parsed.factor} (${prev}, ${label}); the rule ` +
            `allows at most one polarity per factor, keep one`,
          true,
        );
      }
      factors.set(parsed.factor, label);
    }
    out.push(name);
  }
  return out;
}

/**
 * Parses and validates a dataset already read as JSON.
 *
 * @example
 * ```ts
 * import { parseHisDataset } from "./his_dataset.ts";
 * const [r] = parseHisDataset([{ dialog: [{ role: "user", content: "Hi" },
 *   { role: "assistant", content: "Hello!" }], active_adapters: ["EXT_high"] }]);
 * console.log(r.system.startsWith("You are a human with high extraversion")); // true
 * ```
 */
export function parseHisDataset(json: unknown, options: HisDatasetOptions = {}): HisRecord[] {
  return parseHisDatasetReport(json, { strict: true, ...options }).records;
}

/** Validated records plus the records skipped for contradictory labels. */
export interface HisDatasetReport {
  records: HisRecord[];
  skipped: SkippedRecord[];
}

/**
 * Parses a dataset already read as JSON, skipping (and reporting) records whose labels carry both
 * polarities of a factor unless `strict`; every other broken rule throws.
 *
 * @example
 * ```ts
 * import { parseHisDatasetReport } from "./his_dataset.ts";
 * const pair = [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello!" }];
 * const r = parseHisDatasetReport([{ dialog: pair, active_adapters: ["EMS_high", "EMS_low"] }]);
 * console.log(r.records.length, r.skipped[0].code); // 0 "contradictory_labels"
 * ```
 */
export function parseHisDatasetReport(
  json: unknown,
  options: HisDatasetOptions = {},
): HisDatasetReport {
  const where = options.source ?? "HIS dataset";
  const professions = options.professions ?? DEFAULT_PROFESSIONS;
  const templates = options.templates ?? DEFAULT_PROMPT_TEMPLATES;
  if (!Array.isArray(json)) {
    throw withCode(
      new TypeError(
        `${where} is ${json === null ? "null" : typeof json}; expected a JSON array of ` +
          `{dialog, active_adapters} records`,
      ),
      "E_DATA",
    );
  }
  const out: HisDatasetReport = { records: [], skipped: [] };
  json.forEach((rec, i) => {
    const line = options.lines?.[i] ?? 1;
    try {
      out.records.push(parseRecord(rec, i, line, where, professions, templates, options.lines));
    } catch (e) {
      if (!(e instanceof HisRecordError)) throw e;
      if (options.strict) failAt(where, i, options.lines, e.message);
      out.skipped.push({
        source: { file: where, line, record: i },
        reason: `${e.message.replace(/, keep one$/, "")}; the record is skipped (--strict fails ` +
          `instead); fix its active_adapters to train on it`,
        code: "contradictory_labels",
      });
    }
  });
  return out;
}

function parseRecord(
  rec: unknown,
  i: number,
  line: number,
  where: string,
  professions: readonly string[],
  templates: PromptTemplates,
  lineList: readonly number[] | undefined,
): HisRecord {
  function fail(_w: string, index: number, message: string): never {
    return failAt(where, index, lineList, message);
  }
  if (typeof rec !== "object" || rec === null || Array.isArray(rec)) {
    fail(
      where,
      i,
      `is ${JSON.stringify(rec)?.slice(0, 40)}; expected an object {dialog, active_adapters}`,
    );
  }
  const { dialog, active_adapters: labels } = rec as Record<string, unknown>;
  if (!Array.isArray(labels) || labels.some((l) => typeof l !== "string")) {
    fail(
      where,
      i,
      `active_adapters is ${JSON.stringify(labels)}; expected an array of identity names`,
    );
  }
  let identities: string[];
  try {
    identities = validateIdentityLabels(labels as string[], professions);
  } catch (e) {
    if (e instanceof HisRecordError) throw e;
    fail(where, i, (e as Error).message);
  }
  if (!Array.isArray(dialog) || dialog.length === 0) {
    fail(
      where,
      i,
      `dialog is ${JSON.stringify(dialog)?.slice(0, 40)}; expected a non-empty array of turns`,
    );
  }
  const turns: HisTurn[] = [];
  let system: string | undefined;
  for (const [t, turn] of (dialog as unknown[]).entries()) {
    const { role, content } = (turn ?? {}) as Record<string, unknown>;
    if (typeof content !== "string") {
      fail(where, i, `dialog[${t}].content is ${JSON.stringify(content)}; expected a string`);
    }
    if (role === "system") {
      if (t !== 0) {
        fail(where, i, `dialog[${t}] is a system turn; only the first turn may be system`);
      }
      system = content;
      continue;
    }
    const expected = turns.length % 2 === 0 ? "user" : "assistant";
    if (role !== expected) {
      fail(
        where,
        i,
        `dialog[${t}].role is ${
          JSON.stringify(role)
        }; turns must alternate user/assistant after an ` +
          `optional system turn, so "${expected}" was expected here`,
      );
    }
    turns.push({ role: expected, content });
  }
  if (turns.length === 0) {
    fail(where, i, "dialog has no user turn; add at least one user/assistant pair");
  }
  return {
    turns,
    system: system ?? buildSystemPrompt(labels as string[], templates, professions),
    systemFromData: system !== undefined,
    identities,
    labels: [...(labels as string[])],
    index: i,
    line,
  };
}

/**
 * Reads a dataset file (`train.json` / `test.json`).
 *
 * @example
 * ```ts
 * import { loadHisDataset } from "./his_dataset.ts";
 * const train = await loadHisDataset("plugins/hirpf/data/dialogues/train.json");
 * console.log(train.length);
 * ```
 */
export async function loadHisDataset(
  path: string,
  options: HisDatasetOptions = {},
): Promise<HisRecord[]> {
  return (await loadHisDatasetReport(path, { strict: true, ...options })).records;
}

/**
 * Reads a dataset file with record lines, skipping contradictory-label records unless `strict`.
 *
 * @example
 * ```ts
 * import { loadHisDatasetReport } from "./his_dataset.ts";
 * const { records, skipped } = await loadHisDatasetReport("../shared/upstream/his/data/test.json");
 * console.log(records.length, skipped.map((k) => k.source.record)); // 675 [120, 139, …]
 * ```
 */
export async function loadHisDatasetReport(
  path: string,
  options: HisDatasetOptions = {},
): Promise<HisDatasetReport> {
  const text = await Deno.readTextFile(path);
  const json = parseJsonText(text, path);
  const lines = Array.isArray(json) ? recordLines(text, json.length) : undefined;
  return parseHisDatasetReport(json, { source: path, lines, ...options });
}
