import assert from "node:assert/strict";
import { pageOutMappedFiles, parseMapsLine } from "./resident.ts";

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
    "pageOutMappedFiles() reclaims the resident pages of the given file ranges only; their data reads back",
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
      for (const name of ["a.bin", "b.bin", "c.bin"]) {
        const bytes = Uint8Array.from({ length: 64 * PAGE }, (_, i) => (i * 7 + name.length) & 255);
        const path = `${dir}/${name}`;
        // Written through to disk: a dirty page leaves the mapping but stays in memory.
        const f = Deno.openSync(path, { write: true, create: true });
        f.writeSync(bytes);
        f.syncSync();
        f.close();
        const fd = libc.symbols.open(new TextEncoder().encode(path + "\0"), 0);
        assert.ok(fd >= 0, "open failed");
        // PROT_READ, MAP_PRIVATE from file offset 2 pages.
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
      const real = (name: string) => Deno.realPathSync(`${dir}/${name}`);
      // All of a.bin's mapping (file pages 2..63), pages 10..19 of b.bin's, none of c.bin's.
      const r = pageOutMappedFiles(
        new Map([[real("a.bin"), [[0, 64 * PAGE]]], [real("b.bin"), [[10 * PAGE, 20 * PAGE]]]]),
      );
      if (r === undefined) {
        console.log("MADV_PAGEOUT is not available here (Linux 5.4+ with FFI); nothing to check");
        return;
      }
      // The part of each range that is mapped: 62 pages of a.bin, 10 of b.bin.
      assert.deepEqual(r, { ranges: 2, bytes: 72 * PAGE });
      // The kernel may keep a page or two it could not isolate at that moment. (It reclaims
      // whole folios, so b.bin may lose more than its 10 pages; what is asked is its upper bound.)
      const slop = 2 * 4;
      assert.ok(residentKb(maps[0].address) <= slop, `${residentKb(maps[0].address)} kB left`);
      assert.ok(residentKb(maps[1].address) <= 52 * 4 + slop);
      assert.ok(residentKb(maps[2].address) >= 60 * 4, "c.bin, not asked for, was reclaimed");
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

Deno.test("parseMapsLine() reads a file mapping's addresses, offset and path, and skips anonymous ones", () => {
  assert.deepEqual(
    parseMapsLine("7f00a000-7f00c000 rw-p 00010000 fe:00 5349523     /tmp/a b/w.bin"),
    { start: 0x7f00a000n, end: 0x7f00c000n, offset: 0x10000, path: "/tmp/a b/w.bin" },
  );
  assert.equal(parseMapsLine("7f00a000-7f00c000 rw-p 00000000 00:00 0 "), undefined);
  assert.equal(parseMapsLine("7ffd1000-7ffd3000 rw-p 00000000 00:00 0     [stack]"), undefined);
});
