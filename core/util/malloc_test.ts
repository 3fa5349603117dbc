import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

// Run in a child process of its own, so that nothing else allocates meanwhile. Each block is
// looked up by its address in /proc/self/maps: an anonymous mapping of its own (no [heap]) while
// held, none after free.
const CHILD = `
import { mapLargeAllocations } from ${JSON.stringify(new URL("./malloc.ts", import.meta.url).href)};
const size = 24 << 20;
function mappingOf(address) {
  for (const line of Deno.readTextFileSync("/proc/self/maps").split("\\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \\S+ \\S+ \\S+ \\d+\\s*(.*)$/.exec(line);
    if (!m) continue;
    const [start, end] = [BigInt("0x" + m[1]), BigInt("0x" + m[2])];
    if (start <= address && address < end) return { bytes: Number(end - start), name: m[3] };
  }
  return null;
}
const out = { applied: Deno.args[0] === "on" ? [mapLargeAllocations(), mapLargeAllocations()] : [], blocks: [] };
const libc = Deno.dlopen("libc.so.6", {
  malloc: { parameters: ["usize"], result: "pointer" },
  free: { parameters: ["pointer"], result: "void" },
  memset: { parameters: ["pointer", "i32", "usize"], result: "pointer" },
});
for (let i = 0; i < 3; i++) {
  const p = libc.symbols.malloc(BigInt(size));
  libc.symbols.memset(p, 1, BigInt(size));
  const address = Deno.UnsafePointer.value(p);
  const held = mappingOf(address);
  const own = held !== null && held.name === "" && held.bytes >= size && held.bytes < 2 * size;
  libc.symbols.free(p);
  out.blocks.push({ own, unmapped: own && mappingOf(address) === null });
}
console.log(JSON.stringify(out));
`;

async function child(mode: "on" | "off") {
  const dir = await Deno.makeTempDir({ prefix: "dramatis_malloc_" });
  try {
    const file = `${dir}/child.ts`;
    await Deno.writeTextFile(file, CHILD);
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-config", "--no-check", file, mode],
      cwd: fileURLToPath(new URL(".", import.meta.url)),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(r.success, new TextDecoder().decode(r.stderr));
    return JSON.parse(new TextDecoder().decode(r.stdout)) as {
      applied: boolean[];
      blocks: { own: boolean; unmapped: boolean }[];
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "mapLargeAllocations(): every large malloc gets its own mapping, freed back to the system",
  ignore: Deno.build.os !== "linux" || Deno.build.env === "musl",
  async fn() {
    const on = await child("on");
    assert.deepEqual(on.applied, [true, true]);
    // Three 24 MiB blocks in turn: each its own mapping, gone again after free.
    assert.deepEqual(on.blocks, [0, 1, 2].map(() => ({ own: true, unmapped: true })));
    // glibc's default, for contrast: after the first free it serves that size from its heap.
    const off = await child("off");
    assert.equal(off.blocks[0].own, true);
    assert.ok(off.blocks.slice(1).some((b) => !b.own), JSON.stringify(off.blocks));
  },
});
