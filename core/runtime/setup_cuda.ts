/**
 * `deno task setup:cuda`: fetches onnxruntime-node's CUDA execution-provider libraries. The npm
 * package does not ship them (too large for the registry); its own install script downloads the
 * `Microsoft.ML.OnnxRuntime.Gpu.Linux` NuGet package and unpacks
 * `libonnxruntime_providers_{cuda,shared,tensorrt}.so` next to the binding. We run that script
 * under Deno's Node compatibility with `ONNXRUNTIME_NODE_INSTALL=cuda12`.
 *
 * @module
 */

import { join } from "node:path";
import { withCode } from "../errors.ts";
import { hasCudaProvider, ortBinaryDir, ortPackageDir } from "./providers.ts";

/** What {@link setupCuda} did. */
export interface SetupCudaResult {
  /** True when the CUDA provider libraries are now present. */
  installed: boolean;
  /** True when they were already there and nothing was downloaded. */
  alreadyPresent: boolean;
  /** Where the libraries live. */
  dir: string;
  /** The install script's combined output. */
  output: string;
}

/** Options of {@link setupCuda}. */
export interface SetupCudaOptions {
  /** Re-download even when the libraries are present. */
  force?: boolean;
  /** Receives each output line of the install script as it runs. */
  log?: (line: string) => void;
}

const NETWORK_HINTS =
  /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|getaddrinfo|network|dns error|tcp connect|Failed to download/i;

/**
 * Runs onnxruntime-node's install script for CUDA 12. Throws `E_PROVIDER` with the reason (and
 * a clear "network unreachable" message when the NuGet feed cannot be reached).
 *
 * @example
 * ```ts
 * import { setupCuda } from "./setup_cuda.ts";
 * const r = await setupCuda({ log: console.error });
 * console.log(r.installed ? `CUDA provider ready in ${r.dir}` : "not installed");
 * ```
 */
export async function setupCuda(options: SetupCudaOptions = {}): Promise<SetupCudaResult> {
  const dir = ortBinaryDir();
  if (!options.force && hasCudaProvider()) {
    return { installed: true, alreadyPresent: true, dir, output: "" };
  }
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") {
    throw withCode(
      new Error(
        `setup:cuda supports linux x64 only; this machine is ${Deno.build.os} ${Deno.build.arch}`,
      ),
      "E_PROVIDER",
    );
  }
  const script = join(ortPackageDir(), "script", "install.js");
  const child = new Deno.Command(Deno.execPath(), {
    // install.js is CommonJS without a "type" field, so load it through createRequire.
    args: [
      "eval",
      `import { createRequire } from "node:module"; ` +
      `createRequire(${JSON.stringify(script)})(${JSON.stringify(script)});`,
    ],
    env: { ONNXRUNTIME_NODE_INSTALL: "cuda12", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let partial = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      output += chunk;
      partial += chunk;
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) options.log?.(line);
    }
    if (partial) options.log?.(partial);
  };
  const [status] = await Promise.all([child.status, pump(child.stdout), pump(child.stderr)]);
  if (status.success && hasCudaProvider()) {
    return { installed: true, alreadyPresent: false, dir, output };
  }
  const tail = output.trim().split("\n").slice(-5).join("\n");
  if (NETWORK_HINTS.test(output)) {
    throw withCode(
      new Error(
        "setup:cuda could not reach the NuGet feed (https://api.nuget.org) to download " +
          "Microsoft.ML.OnnxRuntime.Gpu.Linux: the network is unreachable from this machine. " +
          `Run it where there is network access, or copy libonnxruntime_providers_cuda.so and ` +
          `libonnxruntime_providers_shared.so from that package into ${dir}.\n${tail}`,
      ),
      "E_PROVIDER",
    );
  }
  throw withCode(
    new Error(
      `setup:cuda failed (exit code ${status.code}); the CUDA provider libraries are still missing in ${dir}.\n${tail}`,
    ),
    "E_PROVIDER",
  );
}
