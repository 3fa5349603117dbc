import assert from "node:assert/strict";
import { renderSvg } from "./render_svg.ts";
import { sweepLinesSpec } from "./sweep_lines.ts";

Deno.test("sweepLinesSpec() draws one line per coefficient through the non-null layer means", async () => {
  const points = [4, 8, 12].flatMap((layer) =>
    [0.5, 1, 2].map((coefficient) => ({
      layer,
      coefficient,
      // One cell with only null verdicts: its point is left out.
      mean: layer === 8 && coefficient === 2 ? null : layer * coefficient,
      n: 3,
    }))
  );
  const spec = sweepLinesSpec(points, { title: "t", score: "optimistic", domain: [0, 100] });
  const values = (spec.data as { values: { layer: number; coefficient: string }[] }).values;
  assert.equal(values.length, 8);
  const svg = await renderSvg(spec);
  assert.match(svg, /^<svg/);
  // Vega draws one path per series of a line mark, and one symbol per point.
  const lines = svg.match(/<path [^>]*aria-roledescription="line mark" d="[^"]*"/g) ?? [];
  assert.equal(lines.length, 3);
  // Each line has one vertex per non-null layer mean: "M" then "L" per further point.
  const vertices = lines.map((l) => (l.match(/ d="([^"]*)"/)![1].match(/[ML]/g) ?? []).length)
    .sort();
  assert.deepEqual(vertices, [2, 3, 3]);
  assert.equal((svg.match(/aria-roledescription="point"/g) ?? []).length, 8);
  assert.ok(svg.includes("layer (hidden-state index)"));
  assert.ok(svg.includes("mean optimistic"));
});
