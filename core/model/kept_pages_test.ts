import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { decodeModel, type DeferredData, isDeferred } from "../onnx/deserialize.ts";
import { makeModel } from "../onnx/ir.ts";
import { writeModel } from "../onnx/serialize.ts";
import { Engine } from "./engine.ts";
import { keptWeightPages } from "./kept_pages.ts";
import { createTinyModel } from "./tiny.ts";
import { pageOutMappedFiles, parseMapsLine } from "../util/resident.ts";

/** The real checkpoint of ../shared (absent in a user's clone: its test is skipped). */
const BABYLLAMA = new URL("../../../shared/models/babyllama-105", import.meta.url).pathname;

interface Mapping {
  path: string;
  offset: number;
  residentKb: number;
}

/** This process's file mappings under `dir`, with their file offsets and resident kB. */
function mappingsUnder(dir: string): Mapping[] {
  const out: Mapping[] = [];
  for (const block of Deno.readTextFileSync("/proc/self/smaps").split(/\n(?=[0-9a-f]+-)/)) {
    const head = parseMapsLine(block.split("\n")[0]);
    if (!head || !head.path.startsWith(dir)) continue;
    const rss = /^Rss:\s+(\d+) kB/m.exec(block);
    out.push({ path: head.path, offset: head.offset, residentKb: Number(rss![1]) });
  }
  return out;
}

/** Whether one of `ranges` holds the file offset `at`. */
function within(ranges: readonly (readonly [number, number])[] | undefined, at: number): boolean {
  return (ranges ?? []).some(([a, b]) => a <= at && at < b);
}

/**
 * Checks an int4 engine just opened from a cache under `root` against onnxruntime's own choice of
 * what stays mapped; returns how many lm_head weights share their bytes with the embedding table.
 */
async function assertKeptPages(engine: Engine, root: string): Promise<number> {
  const data = mappingsUnder(root).filter((m) => m.path.endsWith("/weights.bin"));
  const kept = await keptWeightPages(engine.graphPath);
  assert.ok(kept, "an int4 graph keeps scales mapped");
  // onnxruntime's own choice is the oracle: every tensor it still maps is one we named.
  assert.ok(data.length > 0, "onnxruntime mapped no part of the weights file");
  for (const m of data) {
    assert.ok(within(kept.get(m.path), m.offset), `unnamed mapping at ${m.offset}`);
  }
  // ... and their pages went back when the session had opened (but a page or two the kernel
  // could not take at that moment).
  if (pageOutMappedFiles(new Map()) !== undefined) {
    const left = data.reduce((s, m) => s + m.residentKb, 0);
    assert.ok(left <= 8 + data.length, `${left} kB of ${data.length} mappings resident`);
  }
  // The weights it repacked were unmapped; none of them is named.
  const graph = decodeModel(await Deno.readFile(engine.graphPath), { external: "defer" }).graph;
  const uses = new Map<string, string[]>();
  for (const n of graph.nodes) {
    n.inputs.forEach((x, i) => uses.set(x, [...(uses.get(x) ?? []), `${n.opType}:${i}`]));
  }
  const offset = (name: string) => {
    const t = graph.initializers.find((x) => x.name === name)!;
    return (t.data as DeferredData).ref.offset;
  };
  const onlyPacked = (name: string) => uses.get(name)?.every((u) => u === "MatMulNBits:1");
  const names = graph.initializers.filter((t) => isDeferred(t.data)).map((t) => t.name);
  const otherOffsets = new Set(names.filter((n) => !onlyPacked(n)).map(offset));
  // A tied table is written once: the lm_head's weight and the embedding's table are two
  // initializers over the same bytes, and the embedding's mapping stays.
  const packed = names.filter((n) => onlyPacked(n) && !otherOffsets.has(offset(n)));
  const tied = names.filter((n) => onlyPacked(n) && otherOffsets.has(offset(n)));
  assert.ok(packed.length > 0, "no repacked weight");
  const file = data[0].path;
  for (const name of packed) {
    assert.equal(within(kept.get(file), offset(name)), false, name);
    assert.ok(!data.some((m) => m.offset === offset(name)), `${name} is still mapped`);
  }
  for (const name of tied) {
    assert.ok(within(kept.get(file), offset(name)) && data.some((m) => m.offset === offset(name)));
  }
  return tied.length;
}

Deno.test({
  name:
    "keptWeightPages() names the data-file tensors onnxruntime keeps mapped after opening an int4 graph, and Engine.load hands their pages back",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "dramatis_kept_" }));
    try {
      const model = join(root, "m");
      // Tied embeddings: the table is the lm_head's packed weight and the embedding's lookup.
      await createTinyModel(model, { preset: "tiny-qwen2", seed: 3, tieWordEmbeddings: true });
      const engine = await Engine.load(model, { dtype: "int4", cacheDir: join(root, "cache") });
      try {
        assert.equal(await assertKeptPages(engine, root), 1);
        // Decoding reads what it needs back from the file (engine_quant_test.ts checks the
        // values of engines opened this way against the dequantized reference).
        const out = await engine.generate({ inputIds: [[3, 5, 7]] }, {
          maxNewTokens: 4,
          temperature: 0,
          eosTokenIds: [],
        });
        assert.equal(out.completions[0].tokens.length, 4);
      } finally {
        await engine.close();
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "keptWeightPages() on the real babyllama-105 checkpoint at int4 (tied, blocks of 32 where 128 does not divide)",
  ignore: Deno.build.os !== "linux" || !existsSync(join(BABYLLAMA, "model.safetensors")),
  async fn() {
    const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "dramatis_kept_b_" }));
    try {
      const engine = await Engine.load(BABYLLAMA, {
        dtype: "int4",
        cacheDir: join(root, "cache"),
        threads: 1,
      });
      try {
        const config = JSON.parse(await Deno.readTextFile(join(BABYLLAMA, "config.json")));
        assert.equal(await assertKeptPages(engine, root), config.tie_word_embeddings ? 1 : 0);
      } finally {
        await engine.close();
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("keptWeightPages() leaves out the inputs of products onnxruntime does not repack (group index, float zero points)", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "dramatis_kept_" }));
  try {
    const t = (name: string, dtype: "uint8" | "float32" | "int32", n: number) => ({
      name,
      dtype,
      shape: [n],
      data: dtype === "float32"
        ? new Float32Array(n)
        : dtype === "int32"
        ? new Int32Array(n)
        : new Uint8Array(n),
    });
    const product = (name: string, inputs: string[]) => ({
      name,
      opType: "MatMulNBits",
      domain: "com.microsoft",
      inputs: ["x", ...inputs],
      outputs: [`${name}_y`],
      attributes: {},
    });
    const graph = {
      name: "g",
      inputs: [{ name: "x", dtype: "float32" as const, shape: [1, 64] }],
      outputs: [],
      initializers: [
        t("plain.b", "uint8", 4096),
        t("plain.scales", "float32", 1024),
        t("plain.zp", "uint8", 1024),
        t("gidx.b", "uint8", 4096),
        t("gidx.scales", "float32", 1024),
        t("gidx.g", "int32", 1024),
        t("fzp.b", "uint8", 4096),
        t("fzp.scales", "float32", 1024),
        t("fzp.zp", "float32", 1024),
        t("norm", "float32", 1024),
      ],
      nodes: [
        product("plain", ["plain.b", "plain.scales", "plain.zp"]),
        product("gidx", ["gidx.b", "gidx.scales", "", "gidx.g"]),
        product("fzp", ["fzp.b", "fzp.scales", "fzp.zp"]),
        {
          name: "n",
          opType: "Mul",
          domain: "",
          inputs: ["x", "norm"],
          outputs: ["n_y"],
          attributes: {},
        },
      ],
    };
    const path = join(dir, "model.onnx");
    await writeModel(makeModel(graph), path, { externalData: { threshold: 16, align: 4096 } });
    const kept = (await keptWeightPages(path))!;
    const deferred = decodeModel(await Deno.readFile(path), { external: "defer" }).graph;
    const file = join(dir, "model.onnx_data");
    const named = deferred.initializers
      .filter((x) => within(kept.get(file), (x.data as DeferredData).ref.offset))
      .map((x) => x.name);
    assert.deepEqual(named, ["plain.scales", "plain.zp", "norm"]);
    assert.deepEqual([...kept.keys()], [file]);
    // Each named tensor's bytes, whole.
    for (const x of deferred.initializers.filter((x) => named.includes(x.name))) {
      const { offset, length } = (x.data as DeferredData).ref;
      assert.ok(kept.get(file)!.some(([a, b]) => a <= offset && offset + length <= b), x.name);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
