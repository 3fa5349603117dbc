import assert from "node:assert/strict";
import { GraphBuilder } from "./builder.ts";
import { foldOutputIdentities } from "./fold_outputs.ts";
import { makeModel } from "./ir.ts";
import { runModel } from "./ort_run.ts";

/** x → s = Sigmoid(x) → m = s·s → t = Tanh(m); outputs name s twice, m, t and x itself. */
function graphWithOutputs() {
  const b = new GraphBuilder();
  const x = b.input("x", "float32", [3]);
  const s = b.op1("Sigmoid", [x]);
  const m = b.op1("Mul", [s, s]);
  const t = b.op1("Tanh", [m]);
  b.output("sig", "float32", [3], s);
  b.output("sig_again", "float32", [3], s);
  b.output("mul", "float32", [3], m);
  b.output("tanh", "float32", [3], t);
  b.output("x_copy", "float32", [3], x);
  return b.graph();
}

const identities = (g: ReturnType<typeof graphWithOutputs>) =>
  g.nodes.filter((n) => n.opType === "Identity").map((n) => `${n.inputs[0]}->${n.outputs[0]}`);

Deno.test("foldOutputIdentities() renames produced values to their output names, keeps the rest", () => {
  const before = graphWithOutputs();
  const after = foldOutputIdentities(before);
  assert.equal(identities(before).length, 5);
  // The second name of s, and the graph input, still need a copy.
  assert.deepEqual(identities(after), ["sig->sig_again", "x->x_copy"]);
  const byOp = new Map(after.nodes.map((n) => [n.opType, n]));
  assert.deepEqual(byOp.get("Sigmoid")!.outputs, ["sig"]);
  assert.deepEqual(byOp.get("Mul")!.inputs, ["sig", "sig"]);
  assert.deepEqual(byOp.get("Mul")!.outputs, ["mul"]);
  assert.deepEqual(byOp.get("Tanh")!.inputs, ["mul"]);
  assert.deepEqual(after.outputs, before.outputs);
  // Nothing to fold: the same graph back.
  assert.deepEqual(foldOutputIdentities(after), after);
});

Deno.test("foldOutputIdentities() leaves copies of outputs and other domains' Identity alone", () => {
  const b = new GraphBuilder();
  const x = b.input("x", "float32", [3]);
  const s = b.op1("Sigmoid", [x]);
  const t = b.op1("Tanh", [x]);
  b.output("sig", "float32", [3], s);
  const g = b.graph();
  // s is an output under its own name too, so renaming it to "sig" would lose that output; and
  // an Identity of another domain is not the standard copy.
  g.outputs.push({ name: s, dtype: "float32", shape: [3] });
  g.nodes.push({
    name: "custom",
    opType: "Identity",
    domain: "com.example",
    inputs: [t],
    outputs: ["custom"],
    attributes: {},
  });
  g.outputs.push({ name: "custom", dtype: "float32", shape: [3] });
  assert.deepEqual(foldOutputIdentities(g), g);
});

Deno.test("foldOutputIdentities() keeps every output's values (onnxruntime, both graphs)", async () => {
  const x = { dtype: "float32" as const, shape: [3], data: new Float32Array([-1.5, 0.25, 2]) };
  const before = await runModel(makeModel(graphWithOutputs()), { x });
  const after = await runModel(makeModel(foldOutputIdentities(graphWithOutputs())), { x });
  assert.deepEqual(Object.keys(after).sort(), Object.keys(before).sort());
  for (const k of Object.keys(before)) assert.deepEqual(after[k].data, before[k].data, k);
  const sig = [-1.5, 0.25, 2].map((v) => Math.fround(1 / (1 + Math.exp(-v))));
  for (let i = 0; i < 3; i++) assert.ok(Math.abs((after.sig.data[i] as number) - sig[i]) < 1e-6);
});
