import { quantizeMatrix } from "./core/model/quantize.ts";
const rows = 4864, cols = 896;
const a = new Float32Array(rows * cols);
let s = 1;
for (let i = 0; i < a.length; i++) {
  s = (s * 1103515245 + 12345) % 2147483648;
  a[i] = (s / 2147483648 - 0.5) * (1 + (i % 97 === 0 ? 5 : 0));
}
for (const bits of [4, 8] as const) {
  for (const b of [32, 128]) {
    quantizeMatrix(a, rows, cols, bits, b);
    const t = performance.now();
    for (let k = 0; k < 3; k++) quantizeMatrix(a, rows, cols, bits, b);
    console.log(
      bits,
      b,
      ((performance.now() - t) / 3 / (rows * cols) * 1e6).toFixed(2),
      "ns/weight",
    );
  }
}
