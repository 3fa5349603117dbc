/**
 * The webgpu execution provider, run for real where a WebGPU adapter opens (CI installs Mesa's
 * software Vulkan driver, lavapipe, so onnxruntime's WebGPU provider runs there on the CPU):
 * the same LoRA-adapted, steered tiny model gives the CPU provider's logits within 1e-4 and its
 * greedy tokens, in a float32 graph and in the float16 graph the provider gets by default for
 * f16 weights (within float16 rounding). Skipped with the reason where no adapter opens, unless
 * `DRAMATIS_REQUIRE_WEBGPU=1` (set by `.ci/run` once the driver is installed) makes that a
 * failure.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { hasVulkanLoader } from "../../core/runtime/providers.ts";

interface Run {
  provider: string;
  logits: number[];
  dims: number[];
  tokens: number[];
}

const required = Deno.env.get("DRAMATIS_REQUIRE_WEBGPU") === "1";

async function check(): Promise<
  { available: true; runs: Record<string, Run> } | { available: false; reason: string }
> {
  if (!hasVulkanLoader()) return { available: false, reason: "no Vulkan loader (libvulkan.so.1)" };
  const runtime = await Deno.makeTempDir({ prefix: "dramatis_xdg_" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(import.meta.dirname!, "webgpu_check.ts")],
      env: { XDG_RUNTIME_DIR: runtime, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).slice(-2000);
      throw new Error(`webgpu_check.ts exited with ${out.code} (signal ${out.signal}):\n${err}`);
    }
    return JSON.parse(text);
  } finally {
    await Deno.remove(runtime, { recursive: true });
  }
}

/** Largest |a - b| over real (unpadded) positions of `[B, S, V]` logits of rows `lengths`. */
function maxDiff(a: Run, b: Run, lengths: number[]): { diff: number; scale: number } {
  const [B, S, V] = a.dims;
  let diff = 0, scale = 0;
  for (let r = 0; r < B; r++) {
    for (let s = S - lengths[r]; s < S; s++) {
      for (let v = 0; v < V; v++) {
        const i = (r * S + s) * V + v;
        diff = Math.max(diff, Math.abs(a.logits[i] - b.logits[i]));
        scale = Math.max(scale, Math.abs(b.logits[i]));
      }
    }
  }
  return { diff, scale };
}

Deno.test("webgpu provider: the CPU's logits and greedy tokens (f32 graph), float16 graph within rounding", async () => {
  const result = await check();
  if (!result.available) {
    if (required) {
      assert.fail(`DRAMATIS_REQUIRE_WEBGPU=1 but webgpu is unavailable: ${result.reason}`);
    }
    console.log(`webgpu provider test skipped: ${result.reason}`);
    return;
  }
  const { cpu, webgpu, webgpu_f16: half } = result.runs;
  assert.equal(cpu.provider, "cpu");
  assert.equal(webgpu.provider, "webgpu");
  const lengths = [6, 3];
  const f32 = maxDiff(webgpu, cpu, lengths);
  assert.ok(f32.diff < 1e-4 * Math.max(1, f32.scale), `webgpu f32 logits differ by ${f32.diff}`);
  assert.deepEqual(webgpu.tokens, cpu.tokens);
  const f16 = maxDiff(half, cpu, lengths);
  assert.ok(f16.diff < 5e-3 * f16.scale, `webgpu f16 logits differ by ${f16.diff} of ${f16.scale}`);
  assert.deepEqual(half.tokens, cpu.tokens);
});
