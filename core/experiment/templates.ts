/**
 * Templates inside a step's `with` strings: `{{artifacts.<step>}}` (that earlier step's
 * artifacts folder), `{{datasets.<id>}}` (a dataset's absolute path) and `{{run_dir}}`. They let
 * a step use what an earlier one wrote (a steering vector, an adapter) without fixed paths.
 *
 * @module
 */

import type { Reference } from "./step_executor.ts";

const PATTERN = /\{\{\s*([a-z_]+)(?:\.([A-Za-z0-9][A-Za-z0-9_.-]*))?\s*\}\}/g;

/** A template found in `with`, or a malformed one (`kind` "invalid"). */
export interface TemplateUse {
  path: PropertyKey[];
  text: string;
  reference?: Reference;
  invalid?: string;
}

function walk(value: unknown, path: PropertyKey[], visit: (s: string, p: PropertyKey[]) => void) {
  if (typeof value === "string") visit(value, path);
  else if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i], visit));
  else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) walk(v, [...path, k], visit);
  }
}

/**
 * Lists the templates in a value, with the step or dataset each refers to.
 *
 * @example
 * ```ts
 * import { findTemplates } from "./templates.ts";
 * console.log(findTemplates({ vector: "{{artifacts.extract}}/evil.safetensors" })[0].reference);
 * // { type: "step", id: "extract", path: ["vector"] }
 * ```
 */
export function findTemplates(value: unknown): TemplateUse[] {
  const out: TemplateUse[] = [];
  walk(value, [], (s, path) => {
    for (const m of s.matchAll(PATTERN)) {
      const [text, head, id] = m;
      if (head === "artifacts" && id) {
        out.push({ path, text, reference: { type: "step", id, path } });
      } else if (head === "datasets" && id) {
        out.push({ path, text, reference: { type: "dataset", id, path } });
      } else if (head === "run_dir" && !id) out.push({ path, text });
      else {
        out.push({
          path,
          text,
          invalid:
            `unknown template ${text}; use {{artifacts.<step id>}}, {{datasets.<id>}} or {{run_dir}}`,
        });
      }
    }
  });
  return out;
}

/** Values templates expand to. */
export interface TemplateValues {
  runDir: string;
  artifactsDir(stepId: string): string;
  datasetPath(id: string): string;
}

/**
 * Returns a copy of `value` with every template expanded.
 *
 * @example
 * ```ts
 * import { expandTemplates } from "./templates.ts";
 * const v = expandTemplates({ out: "{{run_dir}}/x" }, {
 *   runDir: "/runs/demo", artifactsDir: (s) => `/runs/demo/artifacts/${s}`, datasetPath: (d) => d,
 * });
 * console.log(v); // { out: "/runs/demo/x" }
 * ```
 */
export function expandTemplates<T>(value: T, values: TemplateValues): T {
  if (typeof value === "string") {
    return value.replace(
      PATTERN,
      (_text, head: string, id: string | undefined) =>
        head === "artifacts"
          ? values.artifactsDir(id!)
          : head === "datasets"
          ? values.datasetPath(id!)
          : values.runDir,
    ) as T;
  }
  if (Array.isArray(value)) return value.map((v) => expandTemplates(v, values)) as T;
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, expandTemplates(v, values)]),
    ) as T;
  }
  return value;
}
