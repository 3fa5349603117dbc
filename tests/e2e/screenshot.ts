/**
 * Test helpers: headless Chromium screenshots of HTML pages and a small PNG decoder, so tests can
 * check that a page really drew its charts. Chromium is Debian's package at /usr/bin/chromium;
 * tests that need it are skipped, with a message, when it is missing.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { inflateSync } from "node:zlib";

/** Where Debian installs Chromium. */
export const CHROMIUM = "/usr/bin/chromium";
/** True when Chromium is installed. */
export const chromiumAvailable: boolean = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();
if (!chromiumAvailable) {
  console.warn(
    `screenshot tests: skipped because ${CHROMIUM} is missing ` +
      "(install it with: apt-get update && apt-get install -y chromium)",
  );
}

/** An RGBA image. */
export interface Image {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes). */
export function decodePng(bytes: Uint8Array): Image {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const signature = [137, 80, 78, 71, 13, 10, 26, 10];
  assert.deepEqual([...bytes.subarray(0, 8)], signature, "a PNG signature");
  let width = 0, height = 0, colorType = 0;
  const idat: Uint8Array[] = [];
  for (let p = 8; p < bytes.length;) {
    const length = view.getUint32(p);
    const type = new TextDecoder().decode(bytes.subarray(p + 4, p + 8));
    const data = bytes.subarray(p + 8, p + 8 + length);
    if (type === "IHDR") {
      width = view.getUint32(p + 8);
      height = view.getUint32(p + 12);
      assert.equal(data[8], 8, "bit depth 8");
      colorType = data[9];
      assert.ok(colorType === 2 || colorType === 6, `colour type ${colorType} is RGB or RGBA`);
      assert.equal(data[12], 0, "not interlaced");
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    p += 12 + length;
  }
  const channels = colorType === 6 ? 4 : 3;
  const raw = inflateSync(concat(idat));
  const stride = width * channels;
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[y * stride + x - channels] : 0;
      const b = y > 0 ? out[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? out[(y - 1) * stride + x - channels] : 0;
      let v = line[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[y * stride + x] = v & 255;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba.set(out.subarray(i * channels, i * channels + 3), i * 4);
    rgba[i * 4 + 3] = channels === 4 ? out[i * channels + 3] : 255;
  }
  return { width, height, rgba };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Pixels in a rectangle that are clearly coloured (not white, grey or black text). */
export function colouredPixels(image: Image, x0: number, y0: number, w: number, h: number): number {
  let n = 0;
  for (let y = y0; y < Math.min(image.height, y0 + h); y++) {
    for (let x = x0; x < Math.min(image.width, x0 + w); x++) {
      const i = (y * image.width + x) * 4;
      const r = image.rgba[i], g = image.rgba[i + 1], b = image.rgba[i + 2];
      if (Math.max(r, g, b) - Math.min(r, g, b) > 60) n++;
    }
  }
  return n;
}

/** Writes `html` into `dir` and screenshots it at the given window size. */
export async function screenshot(
  html: string,
  dir: string,
  name: string,
  size = "1200,1600",
): Promise<Image> {
  const page = join(dir, `${name}.html`);
  const png = join(dir, `${name}.png`);
  await Deno.writeTextFile(page, html);
  const result = await new Deno.Command(CHROMIUM, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--hide-scrollbars",
      `--user-data-dir=${join(dir, `profile-${name}`)}`,
      `--screenshot=${png}`,
      `--window-size=${size}`,
      `file://${page}`,
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  assert.ok(
    result.success,
    `chromium failed: ${new TextDecoder().decode(result.stderr).slice(-500)}`,
  );
  return decodePng(await Deno.readFile(png));
}
