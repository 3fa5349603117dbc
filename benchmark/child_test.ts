import assert from "node:assert/strict";
import { runChild } from "./child.ts";

Deno.test("runChild passes a failed child's own error message to the parent, not a stack tail", async () => {
  const missing = "/nonexistent/dramatis-bench-model";
  const cacheDir = await Deno.makeTempDir({ prefix: "dramatis_child_" });
  await assert.rejects(
    () =>
      runChild(new URL("./quant_gptq7b.ts", import.meta.url), {
        modelDir: missing,
        cacheDir,
        threads: 1,
        newTokens: 1,
      }, "probe"),
    (e: Error) =>
      /^probe failed \(exit 1\): /.test(e.message) && e.message.includes(missing) &&
      !/\n\s+at /.test(e.message),
  );
  await Deno.remove(cacheDir, { recursive: true });
});
