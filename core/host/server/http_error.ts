/**
 * OpenAI-style HTTP errors: `{ error: { message, type, param, code } }` with the status codes the
 * OpenAI API uses, and the mapping from Dramatis errors to them.
 *
 * @module
 */

import { errorCode } from "../../errors.ts";

/** The body of an OpenAI-style error. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/**
 * An error that becomes an HTTP response.
 *
 * @example
 * ```ts
 * import { HttpError } from "./http_error.ts";
 * throw new HttpError(404, "The model 'x' does not exist", { code: "model_not_found", param: "model" });
 * ```
 */
export class HttpError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    message: string,
    options: {
      type?: string;
      param?: string | null;
      code?: string | null;
      headers?: Record<string, string>;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "HttpError";
    this.status = status;
    this.type = options.type ?? defaultType(status);
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.headers = options.headers ?? {};
  }

  /** The OpenAI-shaped body. */
  body(): OpenAIErrorBody {
    return {
      error: { message: this.message, type: this.type, param: this.param, code: this.code },
    };
  }

  /** A JSON response with this error. */
  response(): Response {
    return Response.json(this.body(), { status: this.status, headers: this.headers });
  }
}

function defaultType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** Input-error codes that a backend raises for a bad request rather than for its own failure. */
const BAD_INPUT = new Set(["E_USAGE", "E_CONFIG", "E_DATA", "E_LIMIT", "E_TOKENIZER"]);

/**
 * Maps any error to an HttpError: HttpErrors pass through; errors with an HTTP `status` (from an
 * upstream OpenAI-compatible server) keep it; `E_BUDGET` is 429 `insufficient_quota`; a timeout is
 * 504; coded bad-input errors are 400 with their `param`; anything else is 500.
 *
 * @example
 * ```ts
 * import { toHttpError } from "./http_error.ts";
 * import { withCode } from "../../errors.ts";
 * console.log(toHttpError(withCode(new RangeError("layer is 0"), "E_CONFIG")).status); // 400
 * ```
 */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const e = error as {
    status?: unknown;
    message?: unknown;
    name?: unknown;
    param?: unknown;
    code?: unknown;
    type?: unknown;
  };
  const message = error instanceof Error ? error.message : String(error);
  const param = typeof e?.param === "string" ? e.param : null;
  if (e && typeof e.status === "number" && e.status >= 400 && e.status < 600) {
    return new HttpError(e.status, message, {
      type: typeof e.type === "string" ? e.type : undefined,
      code: typeof e.code === "string" ? e.code : null,
      param,
      cause: error,
    });
  }
  if (e?.name === "TimeoutError") {
    return new HttpError(504, message, { code: "timeout", cause: error });
  }
  const code = errorCode(error);
  if (code === "E_BUDGET") {
    return new HttpError(429, message, {
      type: "insufficient_quota",
      code: "insufficient_quota",
      cause: error,
    });
  }
  if (code === "E_NOT_AVAILABLE") {
    return new HttpError(501, message, { code: "not_available", cause: error });
  }
  if (
    code && BAD_INPUT.has(code) &&
    (error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError)
  ) {
    return new HttpError(400, message, { param, code: code.toLowerCase(), cause: error });
  }
  return new HttpError(500, `internal error: ${message}`, {
    code: code?.toLowerCase() ?? null,
    cause: error,
  });
}

const SYSTEM_ROOTS =
  /(?<![\w.:/-])\/(?:etc|proc|dev|usr|home|root|var|sys|opt|mnt|srv|tmp|work|Users|run|lib|lib64|bin|sbin|snap|nix|private|Volumes|data|media|boot)(?:\/[^\s'"`,;)\]}]*)?/g;

/**
 * Removes server file-system paths from a message a client will read: the working directory,
 * `extra` (configured directories) and absolute paths under the usual system roots become
 * `<path>`. URL paths such as `/v1/personas` are left alone.
 *
 * @example
 * ```ts
 * import { redactPaths } from "./http_error.ts";
 * console.log(redactPaths("cannot open /etc/shadow (No such file)")); // "cannot open <path> (No such file)"
 * ```
 */
export function redactPaths(message: string, extra: readonly string[] = []): string {
  let out = message;
  const prefixes = [...extra];
  try {
    prefixes.push(Deno.cwd());
  } catch { /* no read access to the working directory */ }
  for (const prefix of prefixes.filter((p) => p.length > 1).sort((a, b) => b.length - a.length)) {
    out = out.split(prefix).join("<path>");
  }
  return out.replace(SYSTEM_ROOTS, "<path>").replace(/<path>(?:\/[^\s'"`,;)\]}]*)+/g, "<path>");
}

/**
 * The response a client sees for an error: 5xx errors become a generic message with the request
 * id (the details belong in the server log, never in the body); other errors keep their message
 * with server paths removed.
 *
 * @example
 * ```ts
 * import { HttpError, publicError } from "./http_error.ts";
 * const e = publicError(new HttpError(500, "internal error: EACCES /srv/x"), "req_1");
 * console.log(e.message); // "internal error (request req_1); the server log has the details"
 * ```
 */
export function publicError(error: HttpError, requestId: string, extra: readonly string[] = []) {
  if (error.status >= 500) {
    const what = error.status === 504
      ? "the request ran past the server's time limit"
      : error.status === 501
      ? redactPaths(error.message, extra)
      : "internal error";
    const message = error.status === 501 ? what : `${what} (request ${requestId}); ` +
      (error.status === 504 ? "ask for fewer tokens or retry" : "the server log has the details");
    return new HttpError(error.status, message, {
      type: error.type,
      code: error.code,
      param: error.param,
      headers: { ...error.headers, "x-request-id": requestId },
    });
  }
  return new HttpError(error.status, redactPaths(error.message, extra), {
    type: error.type,
    code: error.code,
    param: error.param,
    headers: { ...error.headers, "x-request-id": requestId },
  });
}

const requestIds = new WeakMap<Request, string>();

/**
 * The id of a request (made on first use, `req_` and 24 hex digits); error bodies and the server
 * log both carry it, so a client's report can be matched with the log line.
 *
 * @example
 * ```ts
 * import { requestId } from "./http_error.ts";
 * const r = new Request("http://x/");
 * console.log(requestId(r) === requestId(r)); // true
 * ```
 */
export function requestId(request: Request): string {
  let id = requestIds.get(request);
  if (!id) {
    id = `req_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
    requestIds.set(request, id);
  }
  return id;
}
