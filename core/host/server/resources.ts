/**
 * Server-side resources by id: a request or a persona names a steering vector, a projection
 * vector or an adapter by an id, and the server looks it up inside a directory its operator
 * configured (`--vectors DIR`, `--adapters DIR`). Ids that leave the directory (absolute paths,
 * `..`, symlinks pointing out), special files (FIFOs, devices) and files over a size cap are
 * refused with a 400 that names the id only, never a server path or a byte of any file.
 *
 * @module
 */

import { isAbsolute, join, normalize, resolve, sep } from "node:path";
import { HttpError } from "./http_error.ts";

/** Options of {@link ResourceDir}. */
export interface ResourceDirOptions {
  /** What the resources are, for messages (`steering vector`, `adapter`). */
  kind: string;
  /** The request field, for the error's `param`. */
  param: string;
  /** The flag that configures the directory, for messages (`--vectors`). */
  flag: string;
  /** Suffix tried when the id has none (`.safetensors`). */
  suffix?: string;
  /** Largest regular file accepted (default 256 MiB). */
  maxBytes?: number;
  /** Whether the id may name a directory (adapters are folders). */
  directories?: boolean;
}

const ID = /^[A-Za-z0-9_][A-Za-z0-9._\-/]*$/;

/**
 * One configured directory of resources.
 *
 * @example
 * ```ts
 * import { ResourceDir } from "./resources.ts";
 * const vectors = new ResourceDir("./vectors", {
 *   kind: "steering vector", param: "steering", flag: "--vectors", suffix: ".safetensors",
 * });
 * // await vectors.resolve("calm")  → the absolute path of ./vectors/calm.safetensors
 * ```
 */
export class ResourceDir {
  readonly root: string;
  readonly options: ResourceDirOptions;
  #realRoot?: Promise<string>;

  constructor(root: string, options: ResourceDirOptions) {
    this.root = resolve(root);
    this.options = options;
  }

  #refuse(id: string, why: string, param = this.options.param): HttpError {
    const shown = JSON.stringify(String(id).slice(0, 120));
    return new HttpError(400, `${this.options.kind} ${shown} ${why}`, {
      param,
      code: "invalid_resource",
    });
  }

  #refuseAt(param: string | undefined, id: string, why: string): HttpError {
    return this.#refuse(id, why, param ?? this.options.param);
  }

  /**
   * The absolute path of the resource `id`, after checking that it stays inside the directory
   * (symlinks resolved), exists, and is a regular file (or folder, when allowed) under the cap.
   * Throws a 400 HttpError otherwise.
   */
  async resolve(id: string, param?: string): Promise<string> {
    const { kind, suffix, directories } = this.options;
    const maxBytes = this.options.maxBytes ?? 256 << 20;
    if (
      typeof id !== "string" || id.length === 0 || id.length > 200 || !ID.test(id) ||
      isAbsolute(id) || id.split("/").some((part) => part === ".." || part === "." || part === "")
    ) {
      throw this.#refuseAt(
        param,
        id,
        `is not a ${kind} id; name one by its id inside the server's ${this.options.flag} ` +
          "directory (letters, digits, '.', '_', '-' and '/', no absolute paths or '..')",
      );
    }
    this.#realRoot ??= Deno.realPath(this.root).catch(() => this.root);
    const realRoot = await this.#realRoot;
    const candidates = suffix && !id.endsWith(suffix) ? [id + suffix, id] : [id];
    for (const name of candidates) {
      const path = normalize(join(this.root, name));
      let real: string;
      try {
        real = await Deno.realPath(path);
      } catch {
        continue;
      }
      if (real !== realRoot && !real.startsWith(realRoot + sep)) {
        throw this.#refuseAt(param, id, `leaves the ${this.options.flag} directory; it is refused`);
      }
      const info = await Deno.lstat(real).catch(() => null);
      if (!info) continue;
      if (info.isDirectory && directories) return real;
      if (!info.isFile) {
        throw this.#refuseAt(param, id, "is not a regular file; it is refused");
      }
      if (info.size > maxBytes) {
        throw this.#refuseAt(param, id, `is ${info.size} bytes, over the cap of ${maxBytes}`);
      }
      return real;
    }
    throw this.#refuseAt(
      param,
      id,
      `does not exist in the server's ${this.options.flag} directory`,
    );
  }
}

/**
 * The error for a resource kind the server was started without.
 *
 * @example
 * ```ts
 * import { resourcesDisabled } from "./resources.ts";
 * console.log(resourcesDisabled("steering", "steering", "--vectors").status); // 400
 * ```
 */
export function resourcesDisabled(what: string, param: string, flag: string): HttpError {
  return new HttpError(
    400,
    `${what} is off on this server: it was started without ${flag} <dir>; ask its operator`,
    { param, code: "invalid_resource" },
  );
}
