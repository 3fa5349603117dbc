import assert from "node:assert/strict";
import { Prng } from "../../core/util/prng.ts";
import { END_CHAT, fallbackSpeaker, parseNextSpeaker, withSpeaker } from "./speaker.ts";

Deno.test("withSpeaker() prefixes unless a line already starts with the name and a colon", () => {
  assert.equal(withSpeaker("(nods) Yes.", "Tom"), "Tom: (nods) Yes.");
  assert.equal(withSpeaker("Tom: Yes.", "Tom"), "Tom: Yes.");
  assert.equal(withSpeaker("Well.\nTom：好", "Tom"), "Well.\nTom：好");
  assert.equal(withSpeaker("Tommy: hi", "Tom"), "Tom: Tommy: hi");
});

Deno.test("parseNextSpeaker() reads every documented pattern", () => {
  const cases: [string, string][] = [
    ["1. Reasoning: Ada asked him.\n2. Next Speaker: Tom Venn", "Tom Venn"],
    ["**Next Speaker:** Tom Venn.", "Tom Venn"],
    ["## Next Speaker\nTom", "Tom"], // the name may follow on the next line
    ["### Next Speaker: Ada Venn!", "Ada Venn"],
    ["next speaker is Environment", "Environment"],
    ["Next Speaker - *Ada Venn*", "Ada Venn"],
    ['NEXT SPEAKER: "Ada"', "Ada"],
    ["Next Speaker: Tom\nOn reflection... Next Speaker: Ada", "Ada"],
    ["Next Speaker: <END CHAT>", END_CHAT],
    [END_CHAT, END_CHAT],
    ["Tom Venn", "Tom Venn"],
    ["Tom Venn: because he was asked", "Tom Venn"],
    ["  random.  ", "random"],
  ];
  for (const [reply, want] of cases) assert.equal(parseNextSpeaker(reply), want, reply);
});

Deno.test("fallbackSpeaker() draws from sorted majors plus Environment minus the current speaker", () => {
  const seen = new Set<string>();
  const prng = new Prng(3);
  for (let i = 0; i < 50; i++) {
    seen.add(fallbackSpeaker("Ada", ["Tom", "Ada"], ["Ada", "Tom", "Environment", "Bo"], prng));
  }
  assert.deepEqual([...seen].sort(), ["Environment", "Tom"]);
  // the same seed gives the same choice whatever the input order
  const a = fallbackSpeaker("X", ["Tom", "Ada"], ["Ada", "Tom", "Environment"], new Prng(9));
  const b = fallbackSpeaker("X", ["Ada", "Tom"], ["Environment", "Tom", "Ada"], new Prng(9));
  assert.equal(a, b);
  // no majors besides the current speaker and only Environment available: Environment
  assert.equal(fallbackSpeaker("Ada", ["Ada"], ["Ada", "Environment"], new Prng(1)), "Environment");
});
