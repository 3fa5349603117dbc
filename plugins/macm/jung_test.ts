import assert from "node:assert/strict";
import { Prng } from "../../core/util/prng.ts";
import {
  defaultTraitBank,
  JUDGING,
  JUNG_FUNCTIONS,
  LEVEL_PHRASES,
  PERCEIVING,
  randomStack,
  traitsFromStack,
} from "./jung.ts";

Deno.test("defaultTraitBank() has 640 distinct sentences, 10 per cell", () => {
  const bank = defaultTraitBank();
  const all = JUNG_FUNCTIONS.flatMap((f) => bank[f].flat());
  assert.equal(all.length, 640);
  assert.equal(new Set(all).size, 640);
  for (const f of JUNG_FUNCTIONS) {
    assert.equal(bank[f].length, 8);
    for (const cell of bank[f]) assert.equal(cell.length, 10);
  }
});

Deno.test("randomStack() puts a perceiving then a judging function first", () => {
  for (let s = 0; s < 50; s++) {
    const st = randomStack(new Prng(s));
    assert.ok(PERCEIVING.includes(st[0]));
    assert.ok(JUDGING.includes(st[1]));
    assert.deepEqual(st.slice().sort(), JUNG_FUNCTIONS.slice().sort());
  }
});

Deno.test("traitsFromStack() draws 4,3,2,1,1,2,3,4 sentences at each position's level", () => {
  const stack = ["Se", "Ti", "Fi", "Ni", "Te", "Si", "Ne", "Fe"] as const;
  const text = traitsFromStack(stack, defaultTraitBank(), new Prng(3));
  const sentences = text.split(/(?:^|\s)- /).filter((s) => s !== "");
  assert.equal(sentences.length, 20);
  const counts = [4, 3, 2, 1, 1, 2, 3, 4];
  let k = 0;
  stack.forEach((_f, p) => {
    for (let c = 0; c < counts[p]; c++, k++) {
      assert.ok(sentences[k].startsWith(`I ${LEVEL_PHRASES[p]} `), sentences[k]);
    }
  });
  assert.throws(
    () =>
      traitsFromStack(
        ["Se", "Se", "Fi", "Ni", "Te", "Si", "Ne", "Fe"],
        defaultTraitBank(),
        new Prng(1),
      ),
    RangeError,
  );
});
