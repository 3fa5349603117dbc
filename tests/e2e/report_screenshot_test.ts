/**
 * End to end: a report opened in headless Chromium really draws its charts. The page (with each
 * chart pinned to a known cell) is screenshotted twice — as rendered, and with every chart SVG
 * swapped for an empty box of the same size — and in each chart's cell the PNGs (decoded here
 * with node:zlib) must differ by many coloured pixels.
 * Skipped, with a message, when /usr/bin/chromium is not installed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import type { MetricRecord } from "../../core/experiment/step_executor.ts";
import { renderReport } from "../../core/report/report_html.ts";

const CHROMIUM = "/usr/bin/chromium";
const available = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();
if (!available) {
  console.warn(
    `report_screenshot_test: skipped because ${CHROMIUM} is missing ` +
      "(install it with: apt-get update && apt-get install -y chromium)",
  );
}

/** An RGBA image. */
interface Image {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes). */
function decodePng(bytes: Uint8Array): Image {
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
function colouredPixels(image: Image, x0: number, y0: number, w: number, h: number): number {
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

async function screenshot(html: string, dir: string, name: string): Promise<Image> {
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
      "--window-size=1200,1600",
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

function metrics(): MetricRecord[] {
  const out: MetricRecord[] = [];
  for (let x = 1; x <= 40; x++) out.push({ step: "fit", name: "loss", value: 3 / Math.sqrt(x), x });
  let index = 0;
  for (const layer of [4, 8, 12]) {
    for (const coefficient of [0, 1, 2, 4]) {
      out.push({
        step: "sweep",
        name: "trait",
        value: layer * coefficient,
        index: index++,
        tags: { layer, coefficient },
      });
    }
  }
  const identities = ["EXT_high", "EXT_low", "AGR_high", "Doctor"];
  for (let i = 0; i < 40; i++) {
    out.push({
      step: "judge",
      name: "score",
      value: (i * 37) % 11,
      index: i,
      tags: { identity: identities[i % 4] },
    });
  }
  return out;
}

Deno.test({
  name: "renderReport() charts draw in headless Chromium",
  ignore: !available,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "report_shot_" });
    try {
      const html = await renderReport({
        name: "screenshot",
        runDir: dir,
        shard: "",
        configHash: "0".repeat(64),
        steps: [],
        metrics: metrics(),
        samples: {},
      });
      const charts = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
      assert.equal(charts.length, 4, "loss, sweep, identity and distribution charts");
      // Pin each chart (one per kind here) to a known 560×400 cell so regions can be checked.
      const kinds = ["loss", "sweep", "identity", "distribution"];
      const cell = (i: number) => ({ x: (i % 2) * 600, y: Math.floor(i / 2) * 440 });
      const layout = `<style>body>*:not(.charts){display:none}figure.chart{position:absolute;` +
        `width:560px;height:400px;overflow:hidden;margin:0;padding:0;border:0}${
          kinds.map((k, i) => `figure[data-chart=${k}]{left:${cell(i).x}px;top:${cell(i).y}px}`)
            .join("")
        }</style></head>`;
      const page = html.replace("</head>", layout);
      // The same page with each chart replaced by an empty box of its size.
      const blank = page.replace(
        /<svg[^>]*?width="(\d+)" height="(\d+)"[\s\S]*?<\/svg>/g,
        (_svg, w, h) => `<div style="width:${w}px;height:${h}px"></div>`,
      );
      assert.ok(!blank.includes("<svg"));

      const drawn = await screenshot(page, dir, "charts");
      const empty = await screenshot(blank, dir, "blank");
      for (const [i, kind] of kinds.entries()) {
        const { x, y } = cell(i);
        const before = colouredPixels(empty, x, y, 560, 400);
        const after = colouredPixels(drawn, x, y, 560, 400);
        assert.ok(before < 200, `the empty ${kind} cell has ${before} coloured pixels`);
        // A line chart colours a thin stroke; bars and heat cells cover large areas.
        const least = kind === "loss" ? 800 : 10_000;
        assert.ok(
          after - before > least,
          `the ${kind} chart drew ${after - before} coloured pixels`,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
