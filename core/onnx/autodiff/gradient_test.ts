import assert from "node:assert/strict";
import { errorCode } from "../../errors.ts";
import { GraphBuilder } from "../builder.ts";
import { makeModel } from "../ir.ts";
import { runModel } from "../ort_run.ts";
import { buildGradientGraph } from "./gradient.ts";

/** loss = sum(x @ W + x @ A @ B) + sum(exp(frozen)) with W, frozen frozen and A, B trained. */
function loraLike() {
  const b = new GraphBuilder({ floatType: "float64" });
  const x = b.input("x", "float64", ["batch", 3]);
  const frozen = b.input("frozen", "float64", [3]);
  const w = b.initializer("W", "float64", [3, 2], new Float64Array([1, 2, 3, 4, 5, 6]));
  const a = b.parameter("A", [3, 1]);
  const bb = b.parameter("B", [1, 2]);
  const base = b.op1("MatMul", [x, w]);
  const delta = b.op1("MatMul", [b.op1("MatMul", [x, a]), bb]);
  const y = b.op1("Add", [base, delta]);
  const side = b.op1("ReduceSum", [b.op1("Exp", [frozen])], { keepdims: 0 });
  const loss = b.op1("Add", [b.op1("ReduceSum", [y], { keepdims: 0 }), side]);
  b.output("loss", "float64", [], loss);
  return b.graph();
}

Deno.test("buildGradientGraph() adds grad outputs only for wrt and prunes frozen branches", () => {
  const g = buildGradientGraph(loraLike(), { loss: "loss", wrt: ["A", "B"] });
  assert.deepEqual(g.outputs.map((o) => o.name), ["loss", "grad.A", "grad.B"]);
  assert.deepEqual(g.outputs[1].shape, [3, 1]);
  const backward = g.nodes.filter((n) => n.name.startsWith("grad"));
  assert.ok(backward.length > 0);
  // Nothing differentiates the frozen Exp branch, and no node reads W to form a gradient for it.
  assert.equal(backward.filter((n) => n.name.startsWith("grad/Exp")).length, 0);
  assert.ok(!g.outputs.some((o) => o.name === "grad.W" || o.name === "grad.frozen"));
  const forwardMatMuls = loraLike().nodes.filter((n) => n.opType === "MatMul").length;
  // d(xA) = dy·Bᵀ, dB = (xA)ᵀ·dy, dA = xᵀ·d(xA): three backward MatMuls, none for x@W.
  assert.equal(g.nodes.filter((n) => n.opType === "MatMul").length - forwardMatMuls, 3);
});

Deno.test("buildGradientGraph() computes exact gradients of a LoRA-like graph", async () => {
  const g = buildGradientGraph(loraLike(), { loss: "loss", wrt: ["A", "B"] });
  const out = await runModel(makeModel(g), {
    x: { dtype: "float64", shape: [2, 3], data: new Float64Array([1, 0, 2, -1, 3, 1]) },
    frozen: { dtype: "float64", shape: [3], data: new Float64Array(3) },
    A: { dtype: "float64", shape: [3, 1], data: new Float64Array([0.5, -1, 2]) },
    B: { dtype: "float64", shape: [1, 2], data: new Float64Array([3, -2]) },
  }, { graphOptimizationLevel: "basic" });
  // loss = sum_i (x_i·A)(B0+B1) + …: dA = colsum(x)·(B0+B1), dB = sum_i x_i·A for each column.
  const colsum = [0, 3, 3];
  assert.deepEqual([...(out["grad.A"].data as Float64Array)], colsum.map((c) => c * 1));
  const xa = [1 * 0.5 + 2 * 2, -0.5 - 3 + 2];
  assert.deepEqual([...(out["grad.B"].data as Float64Array)], [xa[0] + xa[1], xa[0] + xa[1]]);
});

Deno.test("buildGradientGraph() gives zeros to a wrt input the loss does not depend on", async () => {
  const b = new GraphBuilder();
  const x = b.input("x", "float32", [2]);
  b.input("unused", "float32", [3]);
  b.output("loss", "float32", [], b.op1("ReduceSum", [x], { keepdims: 0 }));
  const g = buildGradientGraph(b.graph(), { loss: "loss", wrt: ["x", "unused"] });
  const out = await runModel(makeModel(g), {
    x: { dtype: "float32", shape: [2], data: new Float32Array([1, 2]) },
    unused: { dtype: "float32", shape: [3], data: new Float32Array(3) },
  });
  assert.deepEqual([...(out["grad.x"].data as Float32Array)], [1, 1]);
  assert.deepEqual([...(out["grad.unused"].data as Float32Array)], [0, 0, 0]);
});

Deno.test("buildGradientGraph() names the op and node when a rule is missing", () => {
  const b = new GraphBuilder();
  const x = b.input("x", "float32", [2]);
  const f = b.op1("Floor", [x], {}, { name: "my_floor" });
  b.output("loss", "float32", [], b.op1("ReduceSum", [f], { keepdims: 0 }));
  assert.throws(
    () => buildGradientGraph(b.graph(), { loss: "loss", wrt: ["x"] }),
    (e: Error) =>
      e instanceof TypeError && errorCode(e) === "E_GRAD_RULE" &&
      /Floor node "my_floor"/.test(e.message) && /no gradient rule for op "Floor"/.test(e.message),
  );
});

Deno.test("buildGradientGraph() ignores ops without rules off the differentiated path", () => {
  const b = new GraphBuilder();
  const x = b.input("x", "float32", [2]);
  const c = b.input("c", "float32", [2]);
  const f = b.op1("Floor", [c]);
  b.output("loss", "float32", [], b.op1("ReduceSum", [b.op1("Mul", [x, f])], { keepdims: 0 }));
  const g = buildGradientGraph(b.graph(), { loss: "loss", wrt: ["x"] });
  assert.equal(g.outputs.at(-1)!.name, "grad.x");
});

Deno.test("buildGradientGraph() rejects bad loss and wrt names with E_GRAD_RULE", () => {
  const b = new GraphBuilder();
  const x = b.input("x", "float32", [2]);
  const n = b.input("n", "int64", [2]);
  b.output("loss", "float32", [], b.op1("ReduceSum", [x], { keepdims: 0 }));
  const g = b.graph();
  const check = (opts: { loss: string; wrt: string[] }, re: RegExp) =>
    assert.throws(
      () => buildGradientGraph(g, opts),
      (e: Error) => errorCode(e) === "E_GRAD_RULE" && re.test(e.message),
    );
  check({ loss: "nope", wrt: ["x"] }, /loss "nope" is not a value/);
  check({ loss: "loss", wrt: [] }, /wrt is \[\]/);
  check({ loss: "loss", wrt: ["y"] }, /"y" is not an input or initializer/);
  check({ loss: "loss", wrt: [n] }, /has dtype int64/);
  check({ loss: "loss", wrt: ["x", "x"] }, /twice/);
});

Deno.test("Gather's gradient sums repeated rows exactly on every run with several threads", async () => {
  // onnxruntime 1.30's CPU ScatterND (reduction add) loses updates across threads when ids
  // repeat, as they do in every embedding gradient; the rule must not depend on it.
  const [V, N, D] = [3000, 16384, 256];
  const b = new GraphBuilder();
  const e = b.input("e", "float32", [V, D]);
  const ids = b.input("ids", "int64", [N]);
  const w = b.input("w", "float32", [N, D]);
  const y = b.op1("Mul", [b.op1("Gather", [e, ids], { axis: 0 }), w]);
  b.output("loss", "float32", [], b.op1("ReduceSum", [y], { keepdims: 0 }));
  const model = makeModel(buildGradientGraph(b.graph(), { loss: "loss", wrt: ["e"] }));
  const idv = new BigInt64Array(N).map((_, i) => BigInt((i * 7919) % 13));
  const wv = new Float32Array(N * D).map((_, i) => ((i * 2654435761) % 1000) / 1000);
  const exact = new Float64Array(V * D); // d loss / d e[v] = Σ of w's rows whose id is v
  for (let n = 0; n < N; n++) {
    for (let d = 0; d < D; d++) exact[Number(idv[n]) * D + d] += wv[n * D + d];
  }
  const feeds = {
    e: { dtype: "float32" as const, shape: [V, D], data: new Float32Array(V * D) },
    ids: { dtype: "int64" as const, shape: [N], data: idv },
    w: { dtype: "float32" as const, shape: [N, D], data: wv },
  };
  for (let run = 0; run < 4; run++) {
    const g = (await runModel(model, feeds, { threads: 2 }))["grad.e"].data as Float32Array;
    let worst = 0;
    for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i] - exact[i]));
    assert.ok(worst <= 1e-2, `run ${run}: gradient off by ${worst}`);
  }
});

Deno.test("Gather's gradient through a constant reordering of a whole static axis is one Gather (no scatter)", () => {
  const build = (n: number | string) => {
    const b = new GraphBuilder();
    const x = b.input("x", "float32", [2, n]);
    const w = b.input("w", "float32", [2, 4]);
    const y = b.op1("Mul", [
      b.op1("Gather", [x, b.constantInt([2, 0, 3, 1], [4])], { axis: 1 }),
      w,
    ]);
    b.output("loss", "float32", [], b.op1("ReduceSum", [y], { keepdims: 0 }));
    const g = buildGradientGraph(b.graph(), { loss: "loss", wrt: ["x"] });
    return g.nodes.map((node) => node.opType);
  };
  const fixed = build(4);
  assert.equal(fixed.filter((op) => op === "Gather").length, 2, fixed.join(" "));
  assert.ok(!fixed.includes("ScatterElements"), fixed.join(" "));
  // A symbolic axis may be longer than the indices: the general scatter-add.
  assert.ok(build("n").includes("ScatterElements"));
});
