/**
 * What a gradient rule sees: the forward node, the gradients arriving at its outputs, which inputs
 * need a gradient, and helpers that emit the common backward fragments (constants of the right
 * float type, zeros, run-time shapes, unbroadcasting).
 *
 * @module
 */

import { withCode } from "../../errors.ts";
import type { GraphBuilder } from "../builder.ts";
import { type Dim, type DType, type Graph, isLazy, type Node, type Shape } from "../ir.ts";
import { attributeValue } from "../op_schema.ts";
import type { ValueType } from "../shape.ts";

/**
 * A gradient rule: given the context of one forward node, returns one entry per node input —
 * the gradient value name, or `undefined` where no gradient is needed or none flows.
 */
export type GradRule = (ctx: GradContext) => (string | undefined)[];

/** Raises the E_GRAD_RULE error for a node that a rule cannot differentiate. */
export function gradError(node: Node, message: string): TypeError {
  return withCode(
    new TypeError(`gradient of ${node.opType} node "${node.name}": ${message}`),
    "E_GRAD_RULE",
  );
}

function sameShape(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * The per-node view handed to a {@link GradRule}.
 *
 * @example
 * ```ts
 * import type { GradRule } from "./context.ts";
 * // d(exp x) = dy · exp(x), reading the primal output instead of recomputing it.
 * const expRule: GradRule = (ctx) => [ctx.b.op1("Mul", [ctx.dy(), ctx.node.outputs[0]])];
 * console.log(typeof expRule);
 * ```
 */
export class GradContext {
  readonly node: Node;
  readonly b: GraphBuilder;
  #types: Map<string, ValueType>;
  #consts: ConstantTable;
  #gradOut: (string | undefined)[];
  #needs: boolean[];
  #shapes: Map<string, string>;

  constructor(
    node: Node,
    b: GraphBuilder,
    types: Map<string, ValueType>,
    consts: ConstantTable,
    gradOut: (string | undefined)[],
    needs: boolean[],
    shapeCache: Map<string, string>,
  ) {
    this.node = node;
    this.b = b;
    this.#types = types;
    this.#consts = consts;
    this.#gradOut = gradOut;
    this.#needs = needs;
    this.#shapes = shapeCache;
  }

  /** dtype and shape of a forward value. */
  type(name: string): ValueType {
    const t = this.#types.get(name);
    if (!t) throw gradError(this.node, `the type of "${name}" is unknown`);
    return t;
  }

  /** Shape of input `i`. */
  inShape(i: number): Shape {
    return this.type(this.node.inputs[i]).shape;
  }

  /** The float dtype of output 0 (the dtype every gradient of this node carries). */
  get dtype(): DType {
    return this.type(this.node.outputs[0]).dtype;
  }

  /** True when input `i` needs a gradient. */
  needs(i: number): boolean {
    return this.#needs[i] ?? false;
  }

  /** The gradient arriving at output `k`, or `undefined` when none flows there. */
  gradOut(k = 0): string | undefined {
    return this.#gradOut[k];
  }

  /** The gradient arriving at output `k`, zeros of the output's shape when none flows there. */
  dy(k = 0): string {
    return this.#gradOut[k] ?? this.zerosLike(this.node.outputs[k]);
  }

  /** An attribute with its spec default. */
  attr<T>(name: string): T | undefined {
    return attributeValue(this.node, name) as T | undefined;
  }

  /** The values of a constant integer tensor (initializer or Constant node), if it is one. */
  constInts(name: string): number[] | undefined {
    return this.#consts.ints(name);
  }

  /** A scalar constant of the given float dtype (default: this node's dtype). */
  scalar(value: number, dtype: DType = this.dtype): string {
    if (dtype === "float64") return this.b.constantOf("float64", new Float64Array([value]), []);
    const f = this.b.constantOf("float32", new Float32Array([value]), []);
    return dtype === "float32" ? f : this.b.op1("Cast", [f], { to: dtype });
  }

  /** An int64 shape tensor of a value: a constant when static, `Shape(x)` otherwise. */
  shapeOf(name: string): string {
    const cached = this.#shapes.get(name);
    if (cached) return cached;
    const shape = this.type(name).shape;
    const out = shape.every((d) => typeof d === "number")
      ? this.b.constantInt(shape as number[], [shape.length])
      : this.b.op1("Shape", [name]);
    this.#shapes.set(name, out);
    return out;
  }

  /** Dim `axis` of a value as an int64 tensor of shape `[1]`. */
  dimOf(name: string, axis: number): string {
    const d = this.type(name).shape[axis];
    if (typeof d === "number") return this.b.constantInt([d], [1]);
    return this.b.op1("Shape", [name], { start: axis, end: axis + 1 });
  }

  /** Zeros of the given dtype and run-time shape (an int64 1-D tensor). */
  zerosOfShape(shape: string, dtype: DType = this.dtype): string {
    return this.filled(shape, 0, dtype);
  }

  /** A tensor of the given run-time shape filled with `value`. */
  filled(shape: string, value: number, dtype: DType = this.dtype): string {
    const data = dtype === "float64" ? new Float64Array([value]) : new Float32Array([value]);
    const t = { name: "", dtype: dtype === "float64" ? "float64" : "float32", shape: [1], data };
    const z = this.b.op1("ConstantOfShape", [shape], { value: t });
    return dtype === "float64" || dtype === "float32" ? z : this.b.op1("Cast", [z], { to: dtype });
  }

  /** Zeros shaped like a forward value. */
  zerosLike(name: string): string {
    return this.zerosOfShape(this.shapeOf(name), this.type(name).dtype);
  }

  /**
   * Sums a gradient of shape `gShape` back to the shape of `target` (the reverse of numpy
   * broadcasting): leading axes are summed away, size-1 axes of the target are summed with
   * keepdims. Where a symbolic dim may or may not be 1, the choice is made at run time.
   */
  unbroadcast(g: string, gShape: Shape, target: string): string {
    return this.unbroadcastTo(g, gShape, this.type(target).shape, () => this.shapeOf(target));
  }

  /** {@link GradContext.unbroadcast} to an explicit target shape. */
  unbroadcastTo(g: string, gShape: Shape, tShape: Shape, tShapeTensor: () => string): string {
    if (sameShape(gShape, tShape)) return g;
    const b = this.b;
    const r = gShape.length;
    const rt = tShape.length;
    if (rt > r) throw gradError(this.node, `cannot unbroadcast [${gShape}] to [${tShape}]`);
    const lead = r - rt;
    const axes: number[] = [];
    const dynamic: number[] = [];
    for (let a = 0; a < r; a++) {
      if (a < lead) {
        axes.push(a);
        continue;
      }
      const gd = gShape[a];
      const td = tShape[a - lead];
      if (td === gd) continue;
      if (td === 1) axes.push(a);
      else if (typeof td === "number" || gd === 1) continue;
      else dynamic.push(a);
    }
    let out = g;
    if (axes.length) {
      out = b.op1("ReduceSum", [out, b.constantInt(axes, [axes.length])], { keepdims: 1 });
    }
    for (const a of dynamic) {
      // The target dim is symbolic: sum over the axis only when it is 1 at run time.
      const dim = b.op1("Gather", [tShapeTensor(), b.constantInt([a - lead], [1])]);
      const summed = b.op1("ReduceSum", [out, b.constantInt([a], [1])], { keepdims: 1 });
      const isOne = b.op1("Equal", [dim, b.constantInt([1], [1])]);
      const pick = b.op1("Where", [isOne, summed, out]);
      out = b.op1("Slice", [pick, b.constantInt([0], [1]), dim, b.constantInt([a], [1])]);
    }
    if (lead > 0 || axes.length) out = b.op1("Reshape", [out, tShapeTensor()]);
    return out;
  }
}

/** Constant integer tensors of a graph, by value name. */
export class ConstantTable {
  #inits: Map<string, Graph["initializers"][number]>;
  #nodes: Map<string, Node>;
  #cache = new Map<string, number[] | undefined>();

  constructor(graph: Graph) {
    this.#inits = new Map(graph.initializers.map((t) => [t.name, t]));
    this.#nodes = new Map(
      graph.nodes.filter((n) => n.opType === "Constant").map((n) => [n.outputs[0], n]),
    );
  }

  /** The values of a constant int64/int32 tensor, or `undefined` when it is not a constant. */
  ints(name: string): number[] | undefined {
    if (this.#cache.has(name)) return this.#cache.get(name);
    let out: number[] | undefined;
    const init = this.#inits.get(name);
    if (init) out = tensorInts(init.dtype, init.data);
    else {
      const node = this.#nodes.get(name);
      const v = node?.attributes.value?.value;
      if (v && typeof v === "object" && "dtype" in v) out = tensorInts(v.dtype, v.data);
      else if (node?.attributes.value_ints) out = node.attributes.value_ints.value as number[];
      else if (node?.attributes.value_int) out = [node.attributes.value_int.value as number];
    }
    this.#cache.set(name, out);
    return out;
  }
}

function tensorInts(dtype: DType, data: Parameters<typeof isLazy>[0]): number[] | undefined {
  if (isLazy(data) || (dtype !== "int64" && dtype !== "int32")) return undefined;
  const bytes = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  return dtype === "int64"
    ? Array.from(new BigInt64Array(bytes), Number)
    : Array.from(new Int32Array(bytes));
}
