/**
 * The graph layer: IR, builder, shape inference, ONNX serialization and half-precision helpers.
 *
 * @example
 * ```ts
 * import { GraphBuilder, makeModel, serializeModel } from "./mod.ts";
 * const b = new GraphBuilder();
 * const x = b.input("x", "float32", ["n"]);
 * b.output("y", "float32", ["n"], b.op1("Sigmoid", [x]));
 * const bytes = serializeModel(makeModel(b.graph())).model;
 * console.log(bytes.length);
 * ```
 *
 * @module
 */

export * from "./ir.ts";
export * from "./builder.ts";
export * from "./op_schema.ts";
export * from "./shape.ts";
export * from "./shape_dims.ts";
export * from "./serialize.ts";
export * from "./deserialize.ts";
export * from "./float16.ts";
export * from "./fold_outputs.ts";
