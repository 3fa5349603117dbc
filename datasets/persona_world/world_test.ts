import assert from "node:assert/strict";
import { Prng } from "../../core/util/prng.ts";
import { labelText, opposite, worldVerdict } from "./labeller.ts";
import {
  generateCorpus,
  generateHis,
  MARKERS,
  PHRASES,
  reply,
  replyTraits,
  sampleSpeaker,
  story,
  TOPICS,
} from "./world.ts";

Deno.test("every phrase of the world expresses exactly its own trait and is grammatical", () => {
  for (const [trait, phrases] of Object.entries(PHRASES)) {
    for (const p of phrases) {
      const l = labelText(p.replaceAll("{topic}", "river") + ".");
      assert.deepEqual(l.traits, [trait], p);
      assert.equal(l.grammatical, 1, p);
    }
  }
  // No marker word belongs to two traits.
  const all = Object.values(MARKERS).flat();
  assert.equal(new Set(all).size, all.length);
});

Deno.test("the labeller reads back every generated speaker's traits from its replies and stories", () => {
  const rng = new Prng(11);
  for (let i = 0; i < 300; i++) {
    const speaker = sampleSpeaker(rng);
    const topic = TOPICS[i % TOPICS.length];
    const text = i % 3 === 0 ? story(rng, speaker) : reply(rng, speaker, topic);
    const l = labelText(text);
    assert.deepEqual(new Set(l.traits), new Set(replyTraits(speaker)), text);
    assert.equal(l.grammatical, 1, text);
    const v = worldVerdict(text);
    for (const t of replyTraits(speaker)) assert.equal(v[t], 1, `${t} in ${text}`);
    for (const t of speaker.polarities) assert.equal(v[opposite(t)!], 0);
  }
});

Deno.test("worldVerdict: contradictions count for neither side; non-world text is ungrammatical", () => {
  const v = worldVerdict("I stay calm. I feel nervous. The garden will be wonderful.");
  assert.equal(v.NEU_low, 0);
  assert.equal(v.NEU_high, 0);
  assert.equal(v.optimistic, 1);
  assert.equal(v.valence, 1);
  assert.equal(v.grammatical, 1);
  assert.equal(worldVerdict("Calm the garden wonderful of.").grammatical, 0);
  assert.equal(worldVerdict("I stay calm. blah blah.").grammatical, 0.5);
});

Deno.test("the generator is seeded: same seed, same corpus; identity records carry their identities", () => {
  assert.deepEqual(
    generateCorpus({ seed: 3, conversations: 50 }),
    generateCorpus({ seed: 3, conversations: 50 }),
  );
  assert.notDeepEqual(
    generateCorpus({ seed: 3, conversations: 50 }),
    generateCorpus({ seed: 4, conversations: 50 }),
  );
  for (const r of generateHis({ seed: 2, records: 200 })) {
    const replies = r.dialog.filter((m) => m.role === "assistant");
    for (const m of replies) {
      const v = worldVerdict(m.content);
      for (const id of r.active_adapters) assert.equal(v[id], 1, `${id}: ${m.content}`);
    }
    const factors = r.active_adapters.filter((a) => a.includes("_")).map((a) => a.split("_")[0]);
    assert.equal(new Set(factors).size, factors.length, "one polarity per factor");
  }
});

Deno.test("the corpus is balanced: each polarity near half of the replies", () => {
  const corpus = generateCorpus({ seed: 1, conversations: 2000 });
  const replies = corpus.flatMap((c) => c.messages.filter((m) => m.role === "assistant"));
  for (const id of ["EXT_high", "OPE_low", "optimistic"]) {
    const rate = replies.filter((m) => worldVerdict(m.content)[id] === 1).length / replies.length;
    assert.ok(rate > 0.45 && rate < 0.55, `${id}: ${rate}`);
  }
});
