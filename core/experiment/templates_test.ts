import assert from "node:assert/strict";
import { expandTemplates, findTemplates } from "./templates.ts";

Deno.test("findTemplates() finds step and dataset references and flags unknown templates", () => {
  const uses = findTemplates({
    a: "{{artifacts.fit}}/x",
    b: ["{{ datasets.d }}", "{{run_dir}}"],
    c: "{{nope}}",
  });
  assert.deepEqual(
    uses.map((u) => [u.path, u.reference?.type ?? null, u.reference?.id ?? null, !!u.invalid]),
    [
      [["a"], "step", "fit", false],
      [["b", 0], "dataset", "d", false],
      [["b", 1], null, null, false],
      [["c"], null, null, true],
    ],
  );
});

Deno.test("expandTemplates() replaces templates in nested strings only", () => {
  const v = expandTemplates({ a: "{{artifacts.fit}}/v.st", b: [1, "{{run_dir}}"], c: true }, {
    runDir: "/r",
    artifactsDir: (s) => `/r/artifacts/${s}`,
    datasetPath: (d) => `/data/${d}`,
  });
  assert.deepEqual(v, { a: "/r/artifacts/fit/v.st", b: [1, "/r"], c: true });
});
