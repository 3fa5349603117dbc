/**
 * Gradient rules of onnxruntime's `com.microsoft` quantized contrib ops, for training adapters over
 * a frozen int4 / int8 base (QLoRA-style).
 *
 * `MatMulNBits` computes `y = x · Wᵀ` with `W [N, K]` stored as block-quantized unsigned values
 * (`[N, blocks, blockSize·bits/8]` bytes, int4 two per byte with the lower index in the low
 * nibble), float scales `[N·blocks]` and the default zero point `2^(bits-1)`. The gradient with
 * respect to the activation is `dx = dy · W` with `W` dequantized in the graph from the very
 * bytes the forward reads (`(q - zp) · scale`), so it is the exact gradient of the function
 * the kernel computes at `accuracy_level` 0 — the same float weights a float32 graph of the
 * dequantized values holds. The packed weights and scales are frozen: asking for their gradient
 * is an `E_GRAD_RULE` error.
 *
 * @module
 */

import type { GradContext, GradRule } from "./context.ts";
import { gradError } from "./context.ts";

/** The float `[N, K]` matrix a `MatMulNBits` node multiplies by (transposed), built in-graph. */
function dequantizedWeight(ctx: GradContext): string {
  const b = ctx.b;
  const node = ctx.node;
  const [, packed, scales, zeroPoints, gIdx] = node.inputs;
  if (zeroPoints || gIdx) {
    throw gradError(
      node,
      "zero_points / g_idx inputs are not supported; quantize symmetrically (the default zero point)",
    );
  }
  const k = ctx.attr<number>("K")!;
  const n = ctx.attr<number>("N")!;
  const bits = ctx.attr<number>("bits") ?? 4;
  const bs = ctx.attr<number>("block_size")!;
  if (bits !== 4 && bits !== 8) throw gradError(node, `bits is ${bits}; 4 and 8 are supported`);
  const nb = Math.ceil(k / bs);
  const dtype = ctx.dtype;
  let q: string;
  if (bits === 8) {
    q = b.op1("Cast", [packed], { to: dtype });
  } else {
    // Split each byte into its two nibbles in float arithmetic (exact for 0..255):
    // high = floor(v / 16), low = v - 16·high; the low nibble holds the lower index.
    const v = b.op1("Cast", [packed], { to: dtype });
    const high = b.op1("Floor", [b.op1("Mul", [v, ctx.scalar(1 / 16)])]);
    const low = b.op1("Sub", [v, b.op1("Mul", [high, ctx.scalar(16)])]);
    const axis = b.constantInt([3], [1]);
    q = b.op1("Concat", [b.op1("Unsqueeze", [low, axis]), b.op1("Unsqueeze", [high, axis])], {
      axis: 3,
    });
  }
  const zp = bits === 4 ? 8 : 128;
  const centered = b.op1("Reshape", [q, b.constantInt([n, nb, bs], [3])]);
  const s = b.op1("Reshape", [scales, b.constantInt([n, nb, 1], [3])]);
  const w = b.op1("Mul", [b.op1("Sub", [centered, ctx.scalar(zp)]), s]);
  const flat = b.op1("Reshape", [w, b.constantInt([n, nb * bs], [2])]);
  if (nb * bs === k) return flat;
  return b.op1("Slice", [
    flat,
    b.constantInt([0], [1]),
    b.constantInt([k], [1]),
    b.constantInt([1], [1]),
  ]);
}

const matMulNBits: GradRule = (ctx) => {
  const b = ctx.b;
  const node = ctx.node;
  for (let i = 1; i < node.inputs.length; i++) {
    if (ctx.needs(i) && i !== 5) {
      throw gradError(
        node,
        `input ${i} ("${node.inputs[i]}") is a frozen quantized weight and has no gradient; ` +
          "train an adapter over it, or train this layer's weights in float32 (--dtype f32)",
      );
    }
  }
  const dy = ctx.dy();
  let dx: string | undefined;
  if (ctx.needs(0)) dx = b.op1("MatMul", [dy, dequantizedWeight(ctx)]);
  const out: (string | undefined)[] = [dx];
  const bias = node.inputs[5];
  if (bias && ctx.needs(5)) {
    out[5] = ctx.unbroadcast(dy, ctx.type(node.outputs[0]).shape, bias);
  }
  return out;
};

/** Rules of `com.microsoft` ops, keyed `com.microsoft::<op>`. */
export const QUANT_RULES: Record<string, GradRule> = {
  "com.microsoft::MatMulNBits": matMulNBits,
};
