import assert from "node:assert/strict";
import { pageOutMappedFiles } from "./resident.ts";

const PAGE = 4096;

/** Resident kB of the mapping that starts at `address`, from /proc/self/smaps. */
function residentKb(address: bigint): number {
  const lines = Deno.readTextFileSync("/proc/self/smaps").split("\n");
  const head = address.toString(16);
  const at = lines.findIndex((l) => l.startsWith(head + "-"));
  assert.ok(at >= 0, `no mapping at 0x${head}`);
  for (let i = at + 1; i < lines.length && !/^[0-9a-f]+-/.test(lines[i]); i++) {
    const m = /^Rss:\s+(\d+) kB/.exec(lines[i]);
    if (m) return Number(m[1]);
  }
  throw new Error("no Rss line");
}

Deno.test({
  name:
    "pageOutMappedFiles() reclaims resident pages of matching mappings only; their data reads back",
  ignore: Deno.build.os !== "linux" || Deno.build.env === "musl",
  fn() {
    const dir = Deno.makeTempDirSync({ prefix: "dramatis_resident_" });
    const libc = Deno.dlopen("libc.so.6", {
      mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
      munmap: { parameters: ["pointer", "usize"], result: "i32" },
      open: { parameters: ["buffer", "i32"], result: "i32" },
      close: { parameters: ["i32"], result: "i32" },
    });
    const maps: { address: bigint; pointer: Deno.PointerObject; bytes: Uint8Array }[] = [];
    try {
      for (const name of ["a.bin", "b.bin"]) {
        const bytes = Uint8Array.from({ length: 64 * PAGE }, (_, i) => (i * 7 + name.length) & 255);
        const path = `${dir}/${name}`;
        // Written through to disk: reclaim skips dirty pages.
        const f = Deno.openSync(path, { write: true, create: true });
        f.writeSync(bytes);
        f.syncSync();
        f.close();
        const fd = libc.symbols.open(new TextEncoder().encode(path + "\0"), 0);
        assert.ok(fd >= 0, "open failed");
        // PROT_READ, MAP_PRIVATE at file offset 2 pages (the offset the test below matches).
        const length = bytes.length - 2 * PAGE;
        const p = libc.symbols.mmap(null, BigInt(length), 1, 2, fd, 2n * BigInt(PAGE));
        libc.symbols.close(fd);
        assert.ok(p && Deno.UnsafePointer.value(p) !== 0xffffffffffffffffn, "mmap failed");
        const view = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(p!, length));
        // Touch every page.
        let sum = 0;
        for (let i = 0; i < length; i += PAGE) sum += view[i];
        assert.ok(sum >= 0);
        maps.push({ address: BigInt(Deno.UnsafePointer.value(p!)), pointer: p!, bytes });
      }
      for (const m of maps) assert.ok(residentKb(m.address) >= 60 * 4, "pages not resident");
      const real = Deno.realPathSync(`${dir}/a.bin`);
      const seen: [string, number][] = [];
      const r = pageOutMappedFiles((path, offset) => {
        if (path.startsWith(Deno.realPathSync(dir))) seen.push([path, offset]);
        return path === real && offset === 2 * PAGE;
      });
      assert.deepEqual(r, { mappings: 1, mappedBytes: 62 * PAGE });
      assert.deepEqual(seen.sort(), [[real, 2 * PAGE], [
        `${Deno.realPathSync(dir)}/b.bin`,
        2 * PAGE,
      ]]);
      assert.equal(residentKb(maps[0].address), 0);
      assert.ok(
        residentKb(maps[1].address) >= 60 * 4,
        "a mapping that did not match was reclaimed",
      );
      // The data reads back from the file, page for page.
      const view = new Uint8Array(
        Deno.UnsafePointerView.getArrayBuffer(maps[0].pointer, 62 * PAGE),
      );
      assert.deepEqual(view, maps[0].bytes.subarray(2 * PAGE));
    } finally {
      for (const m of maps) libc.symbols.munmap(m.pointer, BigInt(62 * PAGE));
      libc.close();
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
