/**
 * Error messages for experiment files: each names the step (by id) when the problem is inside a
 * step, the field as a dotted path, the value found and what to do.
 *
 * @module
 */

import type { z } from "zod";
import { type CodedError, withCode } from "../errors.ts";

/** Shortens a value for an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "missing";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 60 ? value.slice(0, 57) + "..." : value);
  }
  try {
    const text = JSON.stringify(value);
    if (text !== undefined) return text.length > 60 ? text.slice(0, 57) + "..." : text;
  } catch { /* fall through */ }
  return typeof value;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    value = typeof value === "object" && value !== null
      ? (value as Record<PropertyKey, unknown>)[key]
      : undefined;
  }
  return value;
}

function dotted(path: readonly PropertyKey[]): string {
  return path.map((k, i) => typeof k === "number" ? `[${k}]` : (i ? "." : "") + String(k)).join(
    "",
  );
}

/**
 * Where a path points: `step 'sim' field 'with.models'` inside a step, `field 'models.gpt.kind'`
 * elsewhere. `path` is relative to the experiment root.
 */
export function locate(raw: unknown, path: readonly PropertyKey[]): string {
  if (path[0] === "steps" && typeof path[1] === "number") {
    const id = valueAt(raw, ["steps", path[1], "id"]);
    const name = typeof id === "string" ? `'${id}'` : `#${path[1] + 1}`;
    const field = dotted(path.slice(2));
    return `step ${name} (steps[${path[1]}])${field ? ` field '${field}'` : ""}`;
  }
  return `field '${dotted(path) || "(root)"}'`;
}

/**
 * Builds an E_CONFIG error for a location in an experiment.
 *
 * @example
 * ```ts
 * import { configError } from "./config_error.ts";
 * const raw = { steps: [{ id: "sim", with: { limit: -1 } }] };
 * throw configError("exp.json", raw, ["steps", 0, "with", "limit"], "use a whole number >= 1");
 * ```
 */
export function configError(
  source: string,
  raw: unknown,
  path: readonly PropertyKey[],
  fix: string,
  ErrorClass: typeof TypeError | typeof RangeError = TypeError,
): TypeError & CodedError {
  const value = describeValue(valueAt(raw, path));
  return withCode(
    new ErrorClass(`${source}: ${locate(raw, path)} is ${value}: ${fix}`),
    "E_CONFIG",
  );
}

/**
 * Turns zod issues into one E_CONFIG error: the first issue on the first line, up to four more
 * below. `prefix` is prepended to every issue path (for schemas that validate a sub-object).
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { zodConfigError } from "./config_error.ts";
 * const r = z.object({ seed: z.number() }).safeParse({ seed: "x" });
 * if (!r.success) console.log(zodConfigError("exp.json", { seed: "x" }, r.error).message);
 * ```
 */
export function zodConfigError(
  source: string,
  raw: unknown,
  error: z.ZodError,
  prefix: readonly PropertyKey[] = [],
): TypeError & CodedError {
  const lines = error.issues.slice(0, 5).map((issue) => {
    const path = [...prefix, ...issue.path];
    return `${locate(raw, path)} is ${describeValue(valueAt(raw, path))}: ${issue.message}`;
  });
  const more = error.issues.length > 5 ? [`(${error.issues.length - 5} more problems)`] : [];
  return withCode(
    new TypeError([`${source}: ${lines[0]}`, ...lines.slice(1), ...more].join(
      "\n",
    )),
    "E_CONFIG",
  );
}
