import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

// Run in a child process of its own: other test modules running in parallel in this process
// allocate and free large blocks too, which would disturb the count of mappings.
const CHILD = `
import { mapLargeAllocations } from ${JSON.stringify(new URL("./malloc.ts", import.meta.url).href)};
const size = 24 << 20;
function big() {
  let n = 0;
  for (const line of Deno.readTextFileSync("/proc/self/maps").split("\\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \\S+ \\S+ \\S+ 0\\s*$/.exec(line);
    if (m && parseInt(m[2], 16) - parseInt(m[1], 16) >= size) n++;
  }
  return n;
}
const out = { applied: Deno.args[0] === "on" ? [mapLargeAllocations(), mapLargeAllocations()] : [], blocks: [] };
const libc = Deno.dlopen("libc.so.6", {
  malloc: { parameters: ["usize"], result: "pointer" },
  free: { parameters: ["pointer"], result: "void" },
  memset: { parameters: ["pointer", "i32", "usize"], result: "pointer" },
});
for (let i = 0; i < 3; i++) {
  const before = big();
  const p = libc.symbols.malloc(BigInt(size));
  libc.symbols.memset(p, 1, BigInt(size));
  const held = big();
  libc.symbols.free(p);
  out.blocks.push({ own: held - before, kept: big() - before });
}
console.log(JSON.stringify(out));
`;

async function child(mode: "on" | "off") {
  const dir = await Deno.makeTempDir({ prefix: "dramatis_malloc_" });
  try {
    const file = `${dir}/child.ts`;
    await Deno.writeTextFile(file, CHILD);
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-config", file, mode],
      cwd: fileURLToPath(new URL(".", import.meta.url)),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(r.success, new TextDecoder().decode(r.stderr));
    return JSON.parse(new TextDecoder().decode(r.stdout)) as {
      applied: boolean[];
      blocks: { own: number; kept: number }[];
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "mapLargeAllocations(): every large malloc gets its own mapping, freed back to the system",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const on = await child("on");
    assert.deepEqual(on.applied, [true, true]);
    // Three 24 MiB blocks in turn: each its own mapping, gone again after free.
    assert.deepEqual(on.blocks, [0, 1, 2].map(() => ({ own: 1, kept: 0 })));
    // glibc's default, for contrast: after the first free it keeps later blocks of that size.
    const off = await child("off");
    assert.notDeepEqual(off.blocks, on.blocks);
  },
});
