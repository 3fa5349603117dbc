/**
 * Half-precision conversions: float32 ↔ IEEE float16 (round to nearest, ties to even) and
 * bfloat16 ↔ float32. Half values travel as `Uint16Array` bit patterns because Deno's
 * `Float16Array` input tensors are broken in onnxruntime-node 1.30 (runtime-findings §0.4).
 *
 * @module
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * Converts one float32 value to float16 bits, rounding to nearest even.
 *
 * @example
 * ```ts
 * import { float32ToFloat16Bits } from "./float16.ts";
 * console.log(float32ToFloat16Bits(1).toString(16)); // "3c00"
 * ```
 */
export function float32ToFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  // Unbiased exponent re-biased for half (bias 15).
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the full significand into place, then round to even.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let out = m >>> shift;
    if (rest > half || (rest === half && (out & 1))) out++;
    return sign | out;
  }
  let out = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  if (rest > 0x1000 || (rest === 0x1000 && (out & 1))) out++;
  return sign | out;
}

/**
 * Converts float16 bits to a number.
 *
 * @example
 * ```ts
 * import { float16BitsToFloat32 } from "./float16.ts";
 * console.log(float16BitsToFloat32(0x3c00)); // 1
 * ```
 */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/**
 * Converts a float32 array to float16 bit patterns.
 *
 * @example
 * ```ts
 * import { float32ToFloat16 } from "./float16.ts";
 * const half = float32ToFloat16(new Float32Array([0.5, -2]));
 * console.log(half); // Uint16Array [0x3800, 0xc000]
 * ```
 */
export function float32ToFloat16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32ToFloat16Bits(values[i]);
  return out;
}

/**
 * Converts float16 bit patterns to float32.
 *
 * @example
 * ```ts
 * import { float16ToFloat32 } from "./float16.ts";
 * console.log(float16ToFloat32(new Uint16Array([0x3c00]))); // Float32Array [1]
 * ```
 */
export function float16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = float16BitsToFloat32(bits[i]);
  return out;
}

/**
 * Converts bfloat16 bit patterns to float32 (exact: bfloat16 is the top half of a float32).
 *
 * @example
 * ```ts
 * import { bfloat16ToFloat32 } from "./float16.ts";
 * console.log(bfloat16ToFloat32(new Uint16Array([0x3f80]))); // Float32Array [1]
 * ```
 */
export function bfloat16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const view = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) view[i] = bits[i] << 16;
  return out;
}

/**
 * Converts float32 values to bfloat16 bit patterns, rounding to nearest even (NaN stays NaN).
 *
 * @example
 * ```ts
 * import { float32ToBfloat16 } from "./float16.ts";
 * console.log(float32ToBfloat16(new Float32Array([1]))); // Uint16Array [0x3f80]
 * ```
 */
export function float32ToBfloat16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i];
    const x = u32[0];
    if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff)) {
      out[i] = (x >>> 16) | 0x40;
      continue;
    }
    const lsb = (x >>> 16) & 1;
    out[i] = ((x + 0x7fff + lsb) >>> 16) & 0xffff;
  }
  return out;
}
