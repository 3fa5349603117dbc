/**
 * Table-driven finite-difference test of every gradient rule: a small float64 graph per case, the
 * analytic gradient from the rewritten graph against central differences, both run in
 * onnxruntime.
 */
import assert from "node:assert/strict";
import { GraphBuilder } from "../builder.ts";
import type { DType } from "../ir.ts";
import type { HostTensor } from "../ort_run.ts";
import { inferShapes } from "../shape.ts";
import { Prng } from "../../util/prng.ts";
import { checkGradients } from "./grad_check.ts";
import { GRAD_RULES } from "./rules.ts";

interface InputSpec {
  shape: (number | string)[];
  /** Concrete shape fed (defaults to `shape`). */
  feed?: number[];
  dtype?: DType;
  /** Values (ints, bools as 0/1) for non-float inputs or fixed floats. */
  values?: number[];
  /** Uniform range of random floats. Default [-1.5, 1.5]. */
  range?: [number, number];
  /** Differentiate w.r.t. this input. Default: true for float inputs. */
  wrt?: boolean;
}

interface Case {
  /** Rule(s) covered (op types). */
  ops: string[];
  name: string;
  inputs: Record<string, InputSpec>;
  build(b: GraphBuilder, v: Record<string, string>): string;
}

const I = (b: GraphBuilder, v: number[]) => b.constantInt(v, [v.length]);

const CASES: Case[] = [
  {
    ops: ["Identity"],
    name: "identity",
    inputs: { x: { shape: [2, 3] } },
    build: (b, v) => b.op1("Identity", [v.x]),
  },
  {
    ops: ["Add"],
    name: "add with broadcasting",
    inputs: { x: { shape: [2, 3] }, y: { shape: [3] } },
    build: (b, v) => b.op1("Add", [v.x, v.y]),
  },
  {
    ops: ["Sum"],
    name: "variadic sum",
    inputs: { x: { shape: [2, 3] }, y: { shape: [1, 3] }, z: { shape: [2, 1] } },
    build: (b, v) => b.op1("Sum", [v.x, v.y, v.z]),
  },
  {
    ops: ["Sub"],
    name: "sub with two-sided broadcasting",
    inputs: { x: { shape: [2, 1, 3] }, y: { shape: [4, 1] } },
    build: (b, v) => b.op1("Sub", [v.x, v.y]),
  },
  {
    ops: ["Mul"],
    name: "mul with broadcasting",
    inputs: { x: { shape: [2, 3, 4] }, y: { shape: [3, 1] } },
    build: (b, v) => b.op1("Mul", [v.x, v.y]),
  },
  {
    ops: ["Div"],
    name: "div",
    inputs: { x: { shape: [2, 3] }, y: { shape: [2, 1], range: [0.5, 2] } },
    build: (b, v) => b.op1("Div", [v.x, v.y]),
  },
  {
    ops: ["Pow"],
    name: "pow, constant exponent",
    inputs: { x: { shape: [2, 3], range: [0.5, 2] } },
    build: (b, v) => b.op1("Pow", [v.x, b.constant([2.5], [])]),
  },
  {
    ops: ["Pow"],
    name: "pow, both operands",
    inputs: { x: { shape: [2, 3], range: [0.5, 2] }, e: { shape: [3], range: [-1, 2] } },
    build: (b, v) => b.op1("Pow", [v.x, v.e]),
  },
  {
    ops: ["Neg"],
    name: "neg",
    inputs: { x: { shape: [4] } },
    build: (b, v) => b.op1("Neg", [v.x]),
  },
  {
    ops: ["Sqrt"],
    name: "sqrt",
    inputs: { x: { shape: [2, 3], range: [0.5, 2] } },
    build: (b, v) => b.op1("Sqrt", [v.x]),
  },
  {
    ops: ["Reciprocal"],
    name: "reciprocal",
    inputs: { x: { shape: [2, 3], range: [0.5, 2] } },
    build: (b, v) => b.op1("Reciprocal", [v.x]),
  },
  {
    ops: ["Exp"],
    name: "exp",
    inputs: { x: { shape: [2, 3] } },
    build: (b, v) => b.op1("Exp", [v.x]),
  },
  {
    ops: ["Log"],
    name: "log",
    inputs: { x: { shape: [2, 3], range: [0.5, 2] } },
    build: (b, v) => b.op1("Log", [v.x]),
  },
  {
    ops: ["Sigmoid"],
    name: "sigmoid",
    inputs: { x: { shape: [2, 3] } },
    build: (b, v) => b.op1("Sigmoid", [v.x]),
  },
  {
    ops: ["Tanh"],
    name: "tanh",
    inputs: { x: { shape: [2, 3] } },
    build: (b, v) => b.op1("Tanh", [v.x]),
  },
  {
    ops: ["Relu"],
    name: "relu",
    inputs: { x: { shape: [6], values: [-1.2, -0.4, 0.3, 0.9, 1.4, -0.7] } },
    build: (b, v) => b.op1("Relu", [v.x]),
  },
  {
    ops: ["Abs"],
    name: "abs",
    inputs: { x: { shape: [6], values: [-1.2, -0.4, 0.3, 0.9, 1.4, -0.7] } },
    build: (b, v) => b.op1("Abs", [v.x]),
  },
  {
    ops: ["Softplus"],
    name: "softplus",
    inputs: { x: { shape: [2, 3] } },
    build: (b, v) => b.op1("Softplus", [v.x]),
  },
  {
    ops: ["Cos"],
    name: "cos",
    inputs: { x: { shape: [2, 3] } },
    build: (b, v) => b.op1("Cos", [v.x]),
  },
  {
    ops: ["Sin"],
    name: "sin",
    inputs: { x: { shape: [2, 3] } },
    build: (b, v) => b.op1("Sin", [v.x]),
  },
  {
    ops: ["Cast"],
    name: "cast float→float, int→float carries no gradient",
    inputs: { x: { shape: [2, 3] }, n: { shape: [3], dtype: "int64", values: [1, 2, 3] } },
    build: (b, v) =>
      b.op1("Mul", [
        b.op1("Cast", [v.x], { to: "float64" }),
        b.op1("Cast", [v.n], { to: "float64" }),
      ]),
  },
  {
    ops: ["Where"],
    name: "where with a broadcast condition and operand",
    inputs: {
      c: { shape: [2, 1], dtype: "bool", values: [1, 0] },
      x: { shape: [2, 3] },
      y: { shape: [3] },
    },
    build: (b, v) => b.op1("Where", [v.c, v.x, v.y]),
  },
  {
    ops: ["Softmax"],
    name: "softmax over a middle axis",
    inputs: { x: { shape: [2, 3, 4] } },
    build: (b, v) => b.op1("Softmax", [v.x], { axis: 1 }),
  },
  {
    ops: ["LogSoftmax"],
    name: "log-softmax",
    inputs: { x: { shape: [2, 5] } },
    build: (b, v) => b.op1("LogSoftmax", [v.x], { axis: -1 }),
  },
  {
    ops: ["ReduceSum"],
    name: "reduce-sum, one axis, keepdims 0",
    inputs: { x: { shape: [2, 3, 4] } },
    build: (b, v) => b.op1("ReduceSum", [v.x, I(b, [1])], { keepdims: 0 }),
  },
  {
    ops: ["ReduceSum"],
    name: "reduce-sum over all axes",
    inputs: { x: { shape: [2, 3] } },
    build: (b, v) => b.op1("ReduceSum", [v.x], { keepdims: 1 }),
  },
  {
    ops: ["ReduceMean"],
    name: "reduce-mean, two axes, keepdims 1",
    inputs: { x: { shape: [2, 3, 4] } },
    build: (b, v) => b.op1("ReduceMean", [v.x, I(b, [0, -1])], { keepdims: 1 }),
  },
  {
    ops: ["ReduceMean"],
    name: "reduce-mean over a symbolic axis",
    inputs: { x: { shape: ["n", 3], feed: [4, 3] } },
    build: (b, v) => b.op1("ReduceMean", [v.x, I(b, [0])], { keepdims: 0 }),
  },
  {
    ops: ["ReduceMax"],
    name: "reduce-max",
    inputs: { x: { shape: [2, 4] } },
    build: (b, v) => b.op1("ReduceMax", [v.x, I(b, [1])], { keepdims: 0 }),
  },
  {
    ops: ["CumSum"],
    name: "cumsum, exclusive",
    inputs: { x: { shape: [2, 4] } },
    build: (b, v) => b.op1("CumSum", [v.x, b.constantInt([1], [])], { exclusive: 1 }),
  },
  {
    ops: ["SoftmaxCrossEntropyLoss"],
    name: "softmax cross-entropy, mean with ignore_index",
    inputs: {
      s: { shape: [5, 4] },
      l: { shape: [5], dtype: "int64", values: [1, -100, 3, 0, 3] },
    },
    build: (b, v) =>
      b.op1("SoftmaxCrossEntropyLoss", [v.s, v.l], { ignore_index: -100, reduction: "mean" }),
  },
  {
    ops: ["SoftmaxCrossEntropyLoss"],
    name: "softmax cross-entropy [N,C,d], sum, log_prob output used",
    inputs: {
      s: { shape: [2, 3, 4] },
      l: { shape: [2, 4], dtype: "int64", values: [0, 1, 2, 1, 2, 2, 0, 1] },
    },
    build: (b, v) => {
      const [loss, lp] = b.op("SoftmaxCrossEntropyLoss", [v.s, v.l], { reduction: "sum" }, {
        outputs: 2,
      });
      return b.op1("Add", [b.op1("Mul", [lp, b.constant([0.3], [])]), loss]);
    },
  },
  {
    ops: ["SoftmaxCrossEntropyLoss"],
    name: "softmax cross-entropy, reduction none",
    inputs: { s: { shape: [3, 4] }, l: { shape: [3], dtype: "int64", values: [3, 0, 2] } },
    build: (b, v) => b.op1("SoftmaxCrossEntropyLoss", [v.s, v.l], { reduction: "none" }),
  },
  {
    ops: ["MatMul"],
    name: "matmul, linear layer [B,S,k]@[k,n]",
    inputs: { x: { shape: [2, 3, 4] }, w: { shape: [4, 5] } },
    build: (b, v) => b.op1("MatMul", [v.x, v.w]),
  },
  {
    ops: ["MatMul"],
    name: "matmul, batch broadcasting",
    inputs: { x: { shape: [2, 1, 3, 4] }, w: { shape: [5, 4, 2] } },
    build: (b, v) => b.op1("MatMul", [v.x, v.w]),
  },
  {
    ops: ["MatMul"],
    name: "matmul, matrix times batch",
    inputs: { x: { shape: [3, 4] }, w: { shape: [2, 4, 5] } },
    build: (b, v) => b.op1("MatMul", [v.x, v.w]),
  },
  {
    ops: ["MatMul"],
    name: "matmul, vector operands",
    inputs: { x: { shape: [4] }, w: { shape: [2, 4, 3] }, u: { shape: [3] } },
    build: (b, v) => b.op1("MatMul", [b.op1("MatMul", [v.x, v.w]), v.u]),
  },
  ...[[0, 0], [0, 1], [1, 0], [1, 1]].map(([ta, tb]): Case => ({
    ops: ["Gemm"],
    name: `gemm transA=${ta} transB=${tb}`,
    inputs: {
      a: { shape: ta ? [4, 3] : [3, 4] },
      w: { shape: tb ? [5, 4] : [4, 5] },
      c: { shape: [5] },
    },
    build: (b, v) =>
      b.op1("Gemm", [v.a, v.w, v.c], { transA: ta, transB: tb, alpha: 0.7, beta: 1.3 }),
  })),
  {
    ops: ["Reshape"],
    name: "reshape",
    inputs: { x: { shape: [2, 3, 4] } },
    build: (b, v) => b.op1("Reshape", [v.x, I(b, [0, -1, 2])]),
  },
  {
    ops: ["Flatten"],
    name: "flatten",
    inputs: { x: { shape: [2, 3, 2] } },
    build: (b, v) => b.op1("Flatten", [v.x], { axis: 2 }),
  },
  {
    ops: ["Squeeze", "Unsqueeze"],
    name: "squeeze and unsqueeze",
    inputs: { x: { shape: [2, 1, 3] } },
    build: (b, v) => b.op1("Unsqueeze", [b.op1("Squeeze", [v.x, I(b, [1])]), I(b, [0, -1])]),
  },
  {
    ops: ["Transpose"],
    name: "transpose",
    inputs: { x: { shape: [2, 3, 4] } },
    build: (b, v) => b.op1("Transpose", [v.x], { perm: [2, 0, 1] }),
  },
  {
    ops: ["Expand"],
    name: "expand",
    inputs: { x: { shape: [3, 1] } },
    build: (b, v) => b.op1("Expand", [v.x, I(b, [2, 3, 4])]),
  },
  {
    ops: ["Concat"],
    name: "concat",
    inputs: { x: { shape: [2, 1, 3] }, y: { shape: [2, 2, 3] }, z: { shape: [2, 3, 3] } },
    build: (b, v) => b.op1("Concat", [v.x, v.y, v.z], { axis: -2 }),
  },
  {
    ops: ["Concat"],
    name: "concat with a symbolic axis",
    inputs: { x: { shape: ["n", 2], feed: [3, 2] }, y: { shape: ["m", 2], feed: [2, 2] } },
    build: (b, v) => b.op1("Concat", [v.x, v.y], { axis: 0 }),
  },
  {
    ops: ["Split"],
    name: "split, one output unused",
    inputs: { x: { shape: [2, 6] } },
    build: (b, v) => {
      const [p, , r] = b.op("Split", [v.x, I(b, [1, 2, 3])], { axis: 1 }, { outputs: 3 });
      return b.op1("Mul", [b.op1("ReduceSum", [p, I(b, [1])], { keepdims: 1 }), r]);
    },
  },
  {
    ops: ["Slice"],
    name: "slice on two axes, negative start, step 2",
    inputs: { x: { shape: [4, 3, 6] } },
    build: (b, v) =>
      b.op1("Slice", [v.x, I(b, [-5, 1]), I(b, [100, 3]), I(b, [2, 0]), I(b, [2, 1])]),
  },
  {
    ops: ["Slice"],
    name: "slice with a negative step and no axes",
    inputs: { x: { shape: [5, 2] } },
    build: (b, v) => b.op1("Slice", [v.x, I(b, [3]), I(b, [0]), I(b, [0]), I(b, [-1])]),
  },
  {
    ops: ["Gather"],
    name: "gather axis 0 with repeated and negative indices (embedding)",
    inputs: {
      e: { shape: [5, 3] },
      i: { shape: [2, 3], dtype: "int64", values: [0, 2, 2, -1, 4, 0] },
    },
    build: (b, v) => b.op1("Gather", [v.e, v.i], { axis: 0 }),
  },
  {
    ops: ["Gather"],
    name: "gather axis 1 with 2-D indices",
    inputs: { e: { shape: [2, 4, 3] }, i: { shape: [2, 2], dtype: "int64", values: [3, 1, 1, 0] } },
    build: (b, v) => b.op1("Gather", [v.e, v.i], { axis: 1 }),
  },
  {
    ops: ["Gather"],
    name: "gather along the last axis with a constant permutation (act-order inputs)",
    inputs: { x: { shape: [2, 3, 5] } },
    build: (b, v) => b.op1("Gather", [v.x, b.constantInt([3, 0, -1, 1, 2], [5])], { axis: 2 }),
  },
  {
    ops: ["Gather"],
    name: "gather along the last axis with constant indices that repeat (not a permutation)",
    inputs: { x: { shape: [2, 4] } },
    build: (b, v) => b.op1("Gather", [v.x, b.constantInt([3, 0, 3, 1], [4])], { axis: 1 }),
  },
  {
    ops: ["Gather"],
    name: "gather with a scalar index",
    inputs: { e: { shape: [3, 4] }, i: { shape: [], dtype: "int64", values: [2] } },
    build: (b, v) => b.op1("Gather", [v.e, v.i], { axis: 1 }),
  },
  {
    ops: ["GatherElements"],
    name: "gather-elements",
    inputs: {
      e: { shape: [3, 4] },
      i: { shape: [3, 2], dtype: "int64", values: [0, 3, 3, 3, -1, 1] },
    },
    build: (b, v) => b.op1("GatherElements", [v.e, v.i], { axis: 1 }),
  },
  {
    ops: ["Mul", "Exp", "Add"],
    name: "fan-out: one value used three times accumulates",
    inputs: { x: { shape: [2, 3] } },
    build: (b, v) => b.op1("Add", [b.op1("Mul", [v.x, v.x]), b.op1("Exp", [v.x])]),
  },
  {
    ops: ["Add"],
    name: "broadcasting decided at run time (symbolic dims, fed as 1)",
    inputs: { x: { shape: ["a", 3], feed: [4, 3] }, y: { shape: ["b", 3], feed: [1, 3] } },
    build: (b, v) => b.op1("Add", [v.x, v.y]),
  },
  {
    ops: ["Add"],
    name: "broadcasting decided at run time (symbolic dims, equal)",
    inputs: { x: { shape: ["a", 3], feed: [4, 3] }, y: { shape: ["b", 3], feed: [4, 3] } },
    build: (b, v) => b.op1("Add", [v.x, v.y]),
  },
];

function numericShape(spec: InputSpec): number[] {
  return spec.feed ?? (spec.shape as number[]);
}

async function runCase(c: Case, seed: number): Promise<void> {
  const rng = new Prng(seed);
  const b = new GraphBuilder({ floatType: "float64" });
  const names: Record<string, string> = {};
  const feeds: Record<string, HostTensor> = {};
  const wrt: string[] = [];
  for (const [name, spec] of Object.entries(c.inputs)) {
    const dtype = spec.dtype ?? "float64";
    names[name] = b.input(name, dtype, spec.shape);
    const shape = numericShape(spec);
    const n = shape.reduce((p, d) => p * d, 1);
    if (dtype === "float64") {
      const [lo, hi] = spec.range ?? [-1.5, 1.5];
      const data = spec.values
        ? Float64Array.from(spec.values)
        : Float64Array.from({ length: n }, () => lo + (hi - lo) * rng.next());
      feeds[name] = { dtype, shape, data };
      if (spec.wrt ?? true) wrt.push(name);
    } else if (dtype === "int64") {
      feeds[name] = { dtype, shape, data: BigInt64Array.from(spec.values!, BigInt) };
    } else {
      feeds[name] = { dtype, shape, data: Uint8Array.from(spec.values!) };
    }
  }
  const y = c.build(b, names);
  const yShape = inferShapes(b.graph()).get(y)!.shape;
  // A random linear functional of the output (or Sin when its shape is symbolic) as the loss.
  let weighted: string;
  if (yShape.every((d) => typeof d === "number")) {
    const n = (yShape as number[]).reduce((p, d) => p * d, 1);
    const r = b.constant(
      Float64Array.from({ length: n }, () => rng.next() * 2 - 1),
      yShape as number[],
    );
    weighted = b.op1("Mul", [y, r]);
  } else {
    weighted = b.op1("Sin", [y]);
  }
  b.output("loss", "float64", [], b.op1("ReduceSum", [weighted], { keepdims: 0 }));
  const results = await checkGradients(b.graph(), feeds, { loss: "loss", wrt });
  for (const w of wrt) {
    const r = results[w];
    assert.ok(
      r.relativeError <= 1e-6,
      `${c.name}: d loss/d ${w} relative error ${r.relativeError}\nanalytic ${r.analytic}\nnumeric  ${r.numeric}`,
    );
  }
}

Deno.test("GRAD_RULES: every rule matches central finite differences in float64", async (t) => {
  let seed = 1;
  for (const c of CASES) {
    const s = seed++;
    await t.step(c.name, () => runCase(c, s));
  }
});

Deno.test("GRAD_RULES: every rule in the table has a finite-difference case", () => {
  const covered = new Set(CASES.flatMap((c) => c.ops));
  const missing = Object.keys(GRAD_RULES).filter((op) => !covered.has(op));
  assert.deepEqual(missing, []);
});
