import assert from "node:assert/strict";
import { join } from "node:path";
import { pca2d, symmetricEigen } from "./pca.ts";
import { runCommand } from "./testing/run_command.ts";
import { saveVectorFile } from "./vector_io.ts";

Deno.test("symmetricEigen() returns orthonormal eigenvectors with A·v = λ·v, largest first", () => {
  const a = [[4, 1, 2], [1, 3, 0], [2, 0, 5]];
  const { values, vectors } = symmetricEigen(a);
  assert.ok(values[0] >= values[1] && values[1] >= values[2]);
  for (let k = 0; k < 3; k++) {
    const v = vectors.map((r) => r[k]);
    for (let i = 0; i < 3; i++) {
      const av = a[i].reduce((s, x, j) => s + x * v[j], 0);
      assert.ok(Math.abs(av - values[k] * v[i]) < 1e-9);
    }
    assert.ok(Math.abs(v.reduce((s, x) => s + x * x, 0) - 1) < 1e-12);
  }
  // The trace is the sum of the eigenvalues.
  assert.ok(Math.abs(values.reduce((s, x) => s + x, 0) - 12) < 1e-9);
});

Deno.test("pca2d() keeps every pairwise distance of rank-2 data and explains all its variance", () => {
  // Five points in a 2-D plane embedded in 4-D by an orthonormal pair (u, w).
  const u = [0.5, 0.5, 0.5, 0.5];
  const w = [0.5, -0.5, 0.5, -0.5];
  const plane = [[0, 0], [3, 1], [-2, 4], [1, -1], [5, 5]];
  const rows = Object.fromEntries(
    plane.map(([x, y], i) => [`v${i}`, u.map((ui, j) => 7 + x * ui + y * w[j])]),
  );
  const p = pca2d(rows);
  assert.ok(Math.abs(p.explained[0] + p.explained[1] - 1) < 1e-12);
  for (let i = 0; i < plane.length; i++) {
    for (let j = i + 1; j < plane.length; j++) {
      const want = Math.hypot(plane[i][0] - plane[j][0], plane[i][1] - plane[j][1]);
      const got = Math.hypot(
        p.points[i].pc1 - p.points[j].pc1,
        p.points[i].pc2 - p.points[j].pc2,
      );
      assert.ok(Math.abs(got - want) < 1e-9, `${i},${j}: ${got} vs ${want}`);
    }
  }
  const line = pca2d({ a: [1, 2], b: [2, 4], c: [3, 6] });
  assert.ok(Math.abs(line.explained[0] - 1) < 1e-12);
  assert.ok(
    Math.abs(line.points[0].pc1 - Math.sqrt(5)) < 1e-9,
    "first point positive, |a−mean| = √5",
  );
});

Deno.test("cosine names both averages apart and draws the PCA views", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Two layers (rows 1, 2) of 2-D vectors: per-layer cosines differ from the cosine of means.
    const vecs: Record<string, number[]> = {
      a: [0, 0, 1, 0, 1, 0],
      b: [0, 0, 1, 0, 0, 1],
      c: [0, 0, 0, 1, 1, 1],
    };
    const args: string[] = [];
    for (const [name, data] of Object.entries(vecs)) {
      const path = join(dir, `${name}.safetensors`);
      await saveVectorFile(path, { rows: 3, cols: 2, data: new Float32Array(data) }, {
        model: "m",
        trait: name,
        type: "response_avg",
        n_pos: 1,
        n_neg: 1,
        threshold: 50,
      });
      args.push("--vector", `${name}=${path}`);
    }
    const out = join(dir, "geometry");
    const r = await runCommand("cosine", [...args, "--out", out]);
    const doc = JSON.parse(await Deno.readTextFile(join(out, "cosine.json")));
    // a = rows (1,0), (1,0); b = (1,0), (0,1); c = (0,1), (1,1).
    // a, b: layer cosines 1 and 0 → mean 0.5; layer means (1,0) and (0.5,0.5) → cos 1/√2.
    assert.ok(Math.abs(doc.mean_of_layer_cosines.matrix[0][1] - 0.5) < 1e-6);
    assert.ok(Math.abs(doc.cosine_of_layer_means.matrix[0][1] - Math.SQRT1_2) < 1e-6);
    // a, c: layer cosines 0 and 1/√2 → mean 1/(2√2); layer means (1,0) and (0.5,1) → 0.5/√1.25.
    assert.ok(Math.abs(doc.mean_of_layer_cosines.matrix[0][2] - Math.SQRT1_2 / 2) < 1e-6);
    assert.ok(Math.abs(doc.cosine_of_layer_means.matrix[0][2] - 0.5 / Math.sqrt(1.25)) < 1e-6);
    assert.deepEqual(Object.keys(doc.pca), ["1", "2", "mean"]);
    const images = r.images as string[];
    for (const f of ["pca_layer1.svg", "pca_layer_means.svg", "cosine_of_layer_means.svg"]) {
      const path = images.find((p) => p.endsWith(f));
      assert.ok(path, f);
      assert.match(await Deno.readTextFile(path), /^<svg/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
