/**
 * Execution-provider checks. `cpu` always works. `cuda` needs onnxruntime-node's CUDA provider
 * libraries, which the npm package does not ship (its install script downloads them); `webgpu` is
 * bundled on linux-x64 but needs a Vulkan loader. A missing provider is an `E_PROVIDER` error that
 * names the fix; there is never a silent fallback to CPU.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { existsSync } from "node:fs";
import { withCode } from "../errors.ts";

/** Execution providers Dramatis can ask onnxruntime for. */
export type Provider = "cpu" | "cuda" | "webgpu";

/** All provider names, for validation and help text. */
export const PROVIDERS: readonly Provider[] = ["cpu", "cuda", "webgpu"];

/**
 * The folder holding onnxruntime-node's native binding and libraries for this platform,
 * e.g. `node_modules/.deno/onnxruntime-node@1.30.0/node_modules/onnxruntime-node/bin/napi-v6/linux/x64`.
 *
 * @example
 * ```ts
 * import { ortBinaryDir } from "./providers.ts";
 * console.log(ortBinaryDir());
 * ```
 */
export function ortBinaryDir(): string {
  const entry = fromFileUrl(import.meta.resolve("onnxruntime-node"));
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "x64";
  const os = Deno.build.os === "windows" ? "win32" : Deno.build.os;
  return join(dirname(entry), "..", "bin", "napi-v6", os, arch);
}

/** Where the onnxruntime-node package itself lives (its `script/` folder holds install.js). */
export function ortPackageDir(): string {
  return join(dirname(fromFileUrl(import.meta.resolve("onnxruntime-node"))), "..");
}

const VULKAN_PATHS = [
  "/usr/lib/x86_64-linux-gnu/libvulkan.so.1",
  "/usr/lib/aarch64-linux-gnu/libvulkan.so.1",
  "/usr/lib64/libvulkan.so.1",
  "/usr/lib/libvulkan.so.1",
  "/usr/local/lib/libvulkan.so.1",
];

/** Is a Vulkan loader (`libvulkan.so.1`) findable by the dynamic linker? */
export function hasVulkanLoader(): boolean {
  if (Deno.build.os !== "linux") return true; // Dawn uses D3D12 / Metal there
  const extra = (Deno.env.get("LD_LIBRARY_PATH") ?? "").split(":").filter(Boolean)
    .map((d) => join(d, "libvulkan.so.1"));
  if ([...extra, ...VULKAN_PATHS].some((p) => existsSync(p))) return true;
  try {
    const out = new Deno.Command("ldconfig", { args: ["-p"], stdout: "piped", stderr: "null" })
      .outputSync();
    return new TextDecoder().decode(out.stdout).includes("libvulkan.so.1");
  } catch {
    return false;
  }
}

/** Are onnxruntime-node's CUDA provider libraries installed next to the binding? */
export function hasCudaProvider(): boolean {
  const dir = ortBinaryDir();
  return existsSync(join(dir, "libonnxruntime_providers_cuda.so")) &&
    existsSync(join(dir, "libonnxruntime_providers_shared.so"));
}

/**
 * Throws `E_PROVIDER` when `provider` cannot run on this machine, naming the fix.
 *
 * @example
 * ```ts
 * import { checkProvider } from "./providers.ts";
 * checkProvider("cpu"); // always fine
 * try { checkProvider("cuda"); } catch (e) { console.log((e as Error).message); }
 * ```
 */
export function checkProvider(provider: string): asserts provider is Provider {
  if (!(PROVIDERS as readonly string[]).includes(provider)) {
    throw withCode(
      new TypeError(`provider is ${JSON.stringify(provider)}; use one of ${PROVIDERS.join(", ")}`),
      "E_PROVIDER",
    );
  }
  if (provider === "cuda" && !hasCudaProvider()) {
    throw withCode(
      new Error(
        `provider "cuda" is not installed: libonnxruntime_providers_cuda.so is missing in ${ortBinaryDir()}. ` +
          "Run `deno task setup:cuda` (needs network access, CUDA 12 and cuDNN 9), or use provider cpu.",
      ),
      "E_PROVIDER",
    );
  }
  if (provider === "webgpu" && !hasVulkanLoader()) {
    throw withCode(
      new Error(
        'provider "webgpu" needs a Vulkan loader (libvulkan.so.1) and a GPU Vulkan driver; none was found. ' +
          "Install libvulkan1 (apt-get install libvulkan1) plus your GPU's Vulkan ICD, or use provider cpu.",
      ),
      "E_PROVIDER",
    );
  }
}

/** The `executionProviders` list handed to onnxruntime for one provider (no CPU fallback list). */
export function executionProviders(provider: Provider): string[] {
  return [provider];
}
