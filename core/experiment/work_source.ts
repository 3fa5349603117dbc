/**
 * Where a fan-out step's work items come from: a dataset of the experiment (JSONL or a JSON
 * array), records written inline, or the outputs of an earlier step. Items keep the index of their
 * origin, so a step over another step's outputs stays in the same shard as its source.
 *
 * @module
 */

import { extname } from "node:path";
import { z } from "zod";
import { withCode } from "../errors.ts";
import { ID_RULE } from "./experiment_schema.ts";
import type { Reference, StepContext, Tags, WorkItem } from "./step_executor.ts";

const Id = z.string().regex(ID_RULE);

/**
 * A source of items: a dataset id (`"prompts"` or `{dataset: "prompts"}`), inline `{items: [...]}`,
 * or `{step: "sim", field?: "output"}` (a dotted path into each output record).
 */
export const SourceSchema = z.union([
  Id,
  z.object({ dataset: Id }).strict(),
  z.object({ items: z.array(z.unknown()).min(1) }).strict(),
  z.object({ step: Id, field: z.string().default("output") }).strict(),
]);
/** A parsed source. */
export type Source = z.infer<typeof SourceSchema>;

/**
 * The references a source makes, with `path` the source's own path inside `with`.
 *
 * @example
 * ```ts
 * import { sourceReferences } from "./work_source.ts";
 * console.log(sourceReferences({ step: "sim", field: "output" }, ["inputs"]));
 * ```
 */
export function sourceReferences(source: Source, path: PropertyKey[]): Reference[] {
  if (typeof source === "string") return [{ type: "dataset", id: source, path }];
  if ("dataset" in source) {
    return [{ type: "dataset", id: source.dataset, path: [...path, "dataset"] }];
  }
  if ("step" in source) return [{ type: "step", id: source.step, path: [...path, "step"] }];
  return [];
}

/** Reads a dotted path (`output.turns`) from a value. */
export function pick(value: unknown, path: string): unknown {
  if (path === "" || path === ".") return value;
  let v = value;
  for (const key of path.split(".")) {
    v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  }
  return v;
}

function tagsOf(record: unknown, fields: readonly string[]): Tags | undefined {
  if (typeof record !== "object" || record === null) return undefined;
  const r = record as Record<string, unknown>;
  const tags: Tags = {};
  if (typeof r.tags === "object" && r.tags !== null && !Array.isArray(r.tags)) {
    for (const [k, v] of Object.entries(r.tags)) {
      if (["string", "number", "boolean"].includes(typeof v)) tags[k] = v as string;
    }
  }
  for (const f of fields) {
    const v = r[f];
    if (["string", "number", "boolean"].includes(typeof v)) tags[f] = v as string;
  }
  return Object.keys(tags).length ? tags : undefined;
}

function keyOf(record: unknown, index: number): string {
  if (typeof record === "object" && record !== null) {
    const id = (record as Record<string, unknown>).id;
    if (typeof id === "string" || typeof id === "number") return String(id);
  }
  return String(index);
}

/**
 * Reads the records of a dataset file: one JSON value per line for `.jsonl`, an array for `.json`.
 *
 * @example
 * ```ts
 * import { readRecords } from "./work_source.ts";
 * const rows = await readRecords("./data/prompts.jsonl");
 * console.log(rows.length);
 * ```
 */
export async function readRecords(path: string): Promise<unknown[]> {
  const text = await Deno.readTextFile(path);
  const ext = extname(path).toLowerCase();
  if (ext === ".jsonl" || ext === ".ndjson") {
    const out: unknown[] = [];
    text.split("\n").forEach((line, i) => {
      if (!line.trim()) return;
      try {
        out.push(JSON.parse(line));
      } catch (error) {
        throw withCode(
          new SyntaxError(`${path}:${i + 1}: not valid JSON (${(error as Error).message})`),
          "E_DATA",
        );
      }
    });
    return out;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw withCode(
      new SyntaxError(`${path}: not valid JSON (${(error as Error).message})`),
      "E_DATA",
    );
  }
  if (!Array.isArray(value)) {
    throw withCode(
      new TypeError(
        `${path}: the top level is ${typeof value}, not an array; write a JSON array of records or JSONL`,
      ),
      "E_DATA",
    );
  }
  return value;
}

/**
 * Turns a source into work items. `tagFields` names scalar record fields copied into tags (a
 * record's own `tags` object is always copied).
 *
 * @example
 * ```ts
 * import { loadItems } from "./work_source.ts";
 * import type { StepContext } from "./step_executor.ts";
 * declare const ctx: StepContext;
 * const items = await loadItems({ items: [{ identity: "EXT_high", prompt: "hi" }] }, ctx, ["identity"]);
 * console.log(items[0].tags); // { identity: "EXT_high" }
 * ```
 */
export async function loadItems(
  source: Source,
  context: StepContext,
  tagFields: readonly string[] = [],
  limit?: number,
): Promise<WorkItem[]> {
  let items: WorkItem[];
  if (typeof source === "object" && "step" in source) {
    const records = await context.stepOutputs(source.step);
    items = records.map((r) => ({
      index: r.index,
      key: r.key,
      input: pick(r, source.field),
      tags: r.tags,
    }));
  } else {
    const records = typeof source === "object" && "items" in source
      ? source.items
      : await readRecords(
        context.datasetPath(typeof source === "string" ? source : source.dataset),
      );
    items = records.map((record, index) => ({
      index,
      key: keyOf(record, index),
      input: record,
      tags: tagsOf(record, tagFields),
    }));
  }
  return limit === undefined ? items : items.filter((item) => item.index < limit);
}
