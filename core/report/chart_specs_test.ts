import assert from "node:assert/strict";
import type { MetricRecord } from "../experiment/step_executor.ts";
import { chooseCharts } from "./chart_specs.ts";

const metrics: MetricRecord[] = [
  ...[1, 2, 3].map((x) => ({ step: "fit", name: "loss", value: 3 / x, x })),
  ...[1, 2, 3].map((x) => ({ step: "fit", name: "lr", value: 0.1, x })),
  { step: "fit", name: "final_loss", value: 1 }, // step-level: no chart
  ...[1, 2].flatMap((layer) =>
    [0, 1, 1].map((coefficient, i) => ({
      step: "sweep",
      name: "trait",
      value: layer * coefficient + i,
      index: layer * 10 + i,
      tags: { layer, coefficient },
    }))
  ),
  ...["a", "b", "a"].map((identity, i) => ({
    step: "score",
    name: "extraversion",
    value: i,
    index: i,
    tags: { identity },
  })),
  ...[1, 2, 2, 9].map((value, i) => ({ step: "judge", name: "score", value, index: i })),
];

Deno.test("chooseCharts() picks one chart kind per metric shape", () => {
  const charts = chooseCharts(metrics, { fit: "train" });
  assert.deepEqual(charts.map((c) => [c.group, c.title]), [
    ["loss", "Loss — fit"],
    ["series", "lr — fit"],
    ["sweep", "Steering sweep: trait — sweep"],
    ["sweep", "Steering sweep by layer: trait — sweep"],
    ["identity", "extraversion by identity — score"],
    ["distribution", "Distribution of extraversion — score"],
    ["distribution", "Distribution of score — judge"],
  ]);
  assert.match(charts[0].caption, /train step 'fit'/);
});

Deno.test("chooseCharts() aggregates sweep cells and identity bars to means", () => {
  const charts = chooseCharts(metrics);
  const cells = (charts[2].spec.data as {
    values: { layer: number; coefficient: number; mean: number; n: number }[];
  })
    .values;
  // layer 2, coefficient 1: values 2*1+1 = 3 and 2*1+2 = 4 → mean 3.5
  assert.deepEqual(cells.find((c) => c.layer === 2 && c.coefficient === 1), {
    layer: 2,
    coefficient: 1,
    mean: 3.5,
    n: 2,
  });
  assert.equal(cells.length, 4);
  const bars = (charts[4].spec.data as { values: { identity: string; mean: number }[] }).values;
  assert.deepEqual(bars.map((b) => [b.identity, b.mean]), [["a", 1], ["b", 1]]);
  const hist = charts[6].spec.data as { values: { value: number }[] };
  assert.deepEqual(hist.values.map((v) => v.value), [1, 2, 2, 9]);
});

Deno.test("chooseCharts() thins long series and uses a log axis for losses spanning decades", () => {
  const long = Array.from(
    { length: 5000 },
    (_, i) => ({ step: "t", name: "loss", value: 1000 / (i + 1), x: i + 1 }),
  );
  const [chart] = chooseCharts(long);
  const values = (chart.spec.data as { values: { step: number }[] }).values;
  assert.equal(values.length, 2000);
  assert.equal(values.at(-1)!.step, 5000);
  const y = (chart.spec.encoding as { y: { scale: { type?: string } } }).y;
  assert.equal(y.scale.type, "log");
  assert.deepEqual(chooseCharts([]), []);
});
