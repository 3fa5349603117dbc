/**
 * Gradient rules of onnxruntime's `com.microsoft` quantized contrib ops, for training adapters over
 * a frozen int4 / int8 base (QLoRA-style).
 *
 * `MatMulNBits` computes `y = x · Wᵀ` with `W [N, K]` stored as block-quantized unsigned values
 * (`[N, blocks, blockSize·bits/8]` bytes, int4 two per byte with the lower index in the low
 * nibble), float scales `[N·blocks]` and a zero point per block: the uint8 `zero_points` input
 * (a pre-quantized checkpoint's own zeros, packed the same way) or the default `2^(bits-1)`. The
 * gradient with respect to the activation is `dx = dy · W` with `W` dequantized in the graph from
 * the very bytes the forward reads (`(q - zp) · scale`), so it is the exact gradient of the
 * function the kernel computes at `accuracy_level` 0 — the same float weights a float32 graph of
 * the dequantized values holds. The packed weights, scales and zero points are frozen: asking for
 * their gradient is an `E_GRAD_RULE` error; a `g_idx` input is refused (act-order layers gather
 * their inputs into group order instead).
 *
 * @module
 */

import type { GradContext, GradRule } from "./context.ts";
import { gradError } from "./context.ts";

/**
 * Weight elements dequantized at once (default 8 Mi: a 32 MiB transient float32 copy). Tests
 * lower it to exercise the chunked path on small models; it applies to graphs built afterwards.
 */
export const QUANT_GRAD_SETTINGS = { chunkElements: 8 * 1024 * 1024 };

/**
 * `dx = dy · W` for a `MatMulNBits` node, with `W [N, K]` dequantized in the graph, in chunks of
 * output rows so that no more than `QUANT_GRAD_SETTINGS.chunkElements` weights are float at a time.
 *
 * The packed bytes first pass through a `Where` on a run-time condition (always true): without
 * it onnxruntime's constant folding would evaluate the whole dequantization at session start and
 * hold every weight as float32 besides the packed copy (measured: 17 GB peak for a 0.5B LoRA).
 */
function inputGradient(ctx: GradContext, dy: string): string {
  const b = ctx.b;
  const node = ctx.node;
  const [, packedInit, scalesInit, zeroPoints, gIdx] = node.inputs;
  if (gIdx) {
    throw gradError(
      node,
      "the g_idx input is not supported; order the inputs so each group is one block instead",
    );
  }
  if (zeroPoints && ctx.type(zeroPoints).dtype !== "uint8") {
    throw gradError(node, "zero_points must be uint8 (packed levels)");
  }
  const k = ctx.attr<number>("K")!;
  const n = ctx.attr<number>("N")!;
  const bits = ctx.attr<number>("bits") ?? 4;
  const bs = ctx.attr<number>("block_size")!;
  if (bits !== 4 && bits !== 8) throw gradError(node, `bits is ${bits}; 4 and 8 are supported`);
  const nb = Math.ceil(k / bs);
  const dtype = ctx.dtype;
  const int = (v: number[]) => b.constantInt(v, [v.length]);
  // A run-time `true` (dy's leading dim equals itself) keeps the chain out of constant folding.
  const lead = b.op1("Shape", [dy], { start: 0, end: 1 });
  const live = b.op1("Equal", [lead, lead]);
  const packed = b.op1("Where", [live, packedInit, packedInit]);
  const scales = b.op1("Reshape", [scalesInit, int([n, nb, 1])]);
  const zeros = zeroPoints
    ? blockZeros(ctx, b.op1("Where", [live, zeroPoints, zeroPoints]), n, nb, bits)
    : undefined;
  const rank = ctx.type(node.outputs[0]).shape.length;
  const rowsPer = Math.max(1, Math.floor(QUANT_GRAD_SETTINGS.chunkElements / (nb * bs)));
  let dx: string | undefined;
  for (let r0 = 0; r0 < n; r0 += rowsPer) {
    const r1 = Math.min(n, r0 + rowsPer);
    const whole = r0 === 0 && r1 === n;
    const rows = (v: string) => whole ? v : b.op1("Slice", [v, int([r0]), int([r1]), int([0])]);
    const v = b.op1("Cast", [rows(packed)], { to: dtype });
    const q = bits === 8 ? v : nibbles(ctx, v, 3);
    const count = r1 - r0;
    const centered = b.op1("Reshape", [q, int([count, nb, bs])]);
    const w = b.op1("Mul", [
      b.op1("Sub", [centered, zeros ? rows(zeros) : ctx.scalar(bits === 4 ? 8 : 128)]),
      rows(scales),
    ]);
    let flat = b.op1("Reshape", [w, int([count, nb * bs])]);
    if (nb * bs !== k) flat = b.op1("Slice", [flat, int([0]), int([k]), int([1])]);
    const g = whole ? dy : b.op1("Slice", [dy, int([r0]), int([r1]), int([rank - 1])]);
    const part = b.op1("MatMul", [g, flat]);
    dx = dx === undefined ? part : b.op1("Add", [dx, part]);
  }
  return dx!;
}

/**
 * A float tensor of bytes `v` (values 0..255) split into its two nibbles along a new axis after
 * `axis - 1`, in float arithmetic (exact): high = floor(v / 16), low = v − 16·high; the low
 * nibble holds the lower index.
 */
function nibbles(ctx: GradContext, v: string, axis: number): string {
  const b = ctx.b;
  const high = b.op1("Floor", [b.op1("Mul", [v, ctx.scalar(1 / 16)])]);
  const low = b.op1("Sub", [v, b.op1("Mul", [high, ctx.scalar(16)])]);
  const at = b.constantInt([axis], [1]);
  return b.op1("Concat", [b.op1("Unsqueeze", [low, at]), b.op1("Unsqueeze", [high, at])], {
    axis,
  });
}

/** `zero_points` (uint8, per row `ceil(nb · bits / 8)` bytes) as float zeros `[n, nb, 1]`. */
function blockZeros(ctx: GradContext, zp: string, n: number, nb: number, bits: number): string {
  const b = ctx.b;
  const int = (v: number[]) => b.constantInt(v, [v.length]);
  const per = Math.ceil((nb * bits) / 8);
  const v = b.op1("Reshape", [b.op1("Cast", [zp], { to: ctx.dtype }), int([n, per])]);
  if (bits === 8) return b.op1("Reshape", [v, int([n, nb, 1])]);
  let z = b.op1("Reshape", [nibbles(ctx, v, 2), int([n, 2 * per])]);
  if (2 * per !== nb) z = b.op1("Slice", [z, int([0]), int([nb]), int([1])]);
  return b.op1("Reshape", [z, int([n, nb, 1])]);
}

const matMulNBits: GradRule = (ctx) => {
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
  const out: (string | undefined)[] = [ctx.needs(0) ? inputGradient(ctx, dy) : undefined];
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
