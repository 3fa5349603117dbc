import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "./atomic.ts";

Deno.test("writeFileAtomic() creates parents, replaces content and leaves no temp files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "a", "b", "out.txt");
    await writeFileAtomic(path, "one");
    await writeFileAtomic(path, new TextEncoder().encode("two"));
    assert.equal(await Deno.readTextFile(path), "two");
    const names = [];
    for await (const e of Deno.readDir(join(dir, "a", "b"))) names.push(e.name);
    assert.deepEqual(names, ["out.txt"]);
    await writeJsonAtomic(path, { x: [1] });
    assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), { x: [1] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeDirAtomic() makes the folder appear whole or not at all", async () => {
  const { writeDirAtomic } = await import("./atomic.ts");
  const root = await Deno.makeTempDir();
  try {
    const dir = `${root}/model`;
    // A fill that dies midway (a kill between two files) leaves nothing behind.
    await assert.rejects(() =>
      writeDirAtomic(dir, async (tmp) => {
        await writeFileAtomic(`${tmp}/model.safetensors`, "weights");
        throw new Error("killed");
      })
    );
    assert.equal(await Deno.stat(dir).catch(() => null), null);
    assert.deepEqual([...Deno.readDirSync(root)], []);
    await writeDirAtomic(dir, async (tmp) => {
      await writeFileAtomic(`${tmp}/model.safetensors`, "weights");
      await writeFileAtomic(`${tmp}/tokenizer.json`, "{}");
    });
    await Deno.writeTextFile(`${dir}/notes.txt`, "mine");
    // Replacing it keeps files the new version does not write.
    await writeDirAtomic(dir, async (tmp) => {
      await writeFileAtomic(`${tmp}/model.safetensors`, "weights2");
      await writeFileAtomic(`${tmp}/tokenizer.json`, "{}");
    });
    assert.equal(await Deno.readTextFile(`${dir}/model.safetensors`), "weights2");
    assert.equal(await Deno.readTextFile(`${dir}/notes.txt`), "mine");
    assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name), ["model"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
