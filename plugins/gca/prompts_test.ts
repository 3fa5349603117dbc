import assert from "node:assert/strict";
import { Prng } from "../../core/util/prng.ts";
import {
  buildActorPrompt,
  characterProfile,
  DECORATORS,
  involvedProfiles,
  RETRIEVAL_SLOT,
  wrapActorPrompt,
} from "./actor_prompt.ts";
import { buildEnvironmentPrompt, ENVIRONMENT_ROLES } from "./environment_prompt.ts";
import { buildNspPrompt } from "./nsp_prompt.ts";
import { pyList } from "./py_repr.ts";
import { parseTestRecord } from "./schemas.ts";

const input = {
  character: "Tom",
  book: "The Lamp",
  profile: "A keeper.",
  scenario: "Storm.",
  others: [["Ada", "His sister."], ["Bo", "A boy."]] as [string, string][],
  motivation: "Hide the ledger.",
  retrieval: true,
  style: "coser" as const,
};

Deno.test("buildActorPrompt() emits every section in order", () => {
  const p = buildActorPrompt(input, new Prng(1));
  const heads = [
    "You are Tom from The Lamp.",
    "===Tom's Profile===\nA keeper.",
    "===Current Scenario===\nStorm.",
    "===Information about the other Characters===",
    "===Your Inner Thoughts===\nHide the ledger.",
    `===Relevant Background Information===\n${RETRIEVAL_SLOT}`,
    "===Requirements===",
  ];
  let at = -1;
  for (const h of heads) {
    const i = p.indexOf(h);
    assert.ok(i > at, `${h} missing or out of order`);
    at = i;
  }
  const bare = buildActorPrompt(
    { ...input, others: [], motivation: " ", retrieval: false },
    new Prng(1),
  );
  assert.doesNotMatch(bare, /other Characters|Inner Thoughts|Background Information/);
});

Deno.test("buildActorPrompt() draws one decorator from the seeded generator for all entries", () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const expected = DECORATORS[new Prng(seed).int(DECORATORS.length)];
    const p = buildActorPrompt(input, new Prng(seed));
    assert.ok(
      p.includes(
        `===Information about the other Characters===\n${expected}Ada: His sister.\n${expected}Bo: A boy.`,
      ),
    );
  }
});

Deno.test("buildActorPrompt() words the requirements per style", () => {
  const req = (style: "coser" | "generic" | "wo_thought") =>
    buildActorPrompt({ ...input, style }, new Prng(1)).split("===Requirements===\n")[1];
  assert.match(req("coser"), /square brackets/);
  assert.doesNotMatch(req("coser"), /For instance/);
  assert.match(req("generic"), /For instance, \[.+\] is a thought, and \(.+\) is an action\./);
  assert.doesNotMatch(req("wo_thought"), /square brackets|thought/);
});

Deno.test("wrapActorPrompt() adds the word limit and the name rule for llama/step models", () => {
  assert.match(wrapActorPrompt("P", "Tom", "gpt-4o", 60), /^P\n\n.*60 words at most\.$/);
  assert.doesNotMatch(wrapActorPrompt("P", "Tom", "gpt-4o"), /Begin your reply/);
  assert.match(wrapActorPrompt("P", "Tom", "Step-1-8k"), /Begin your reply with "Tom: "/);
  assert.match(wrapActorPrompt("P", "Tom", "meta-llama/Llama-3.1-70B", 40), /40 words at most/);
  assert.doesNotMatch(wrapActorPrompt("P", "Tom", "CoSER-Llama-3.1-8B"), /Begin your reply/);
});

Deno.test("characterProfile() puts the plot description before the book profile", () => {
  const r = parseTestRecord({
    book: "B",
    i_p: 0,
    i_c: 0,
    scenario: "S",
    dialogues: [{ character: "A", message: "m" }],
    speaking_characters_w_env: ["A", "Environment", "C", "D"],
    plot: {
      summary: "",
      key_characters: [{ name: "A", description: "Desc A." }, {
        name: "D",
        description: "Desc D.",
      }],
    },
    character_profiles: { A: "Book A.", C: "Book C." },
  });
  assert.equal(characterProfile(r, "A"), "Desc A.\n\nBook A.");
  assert.equal(characterProfile(r, "C"), "Book C.");
  assert.deepEqual(involvedProfiles(r), { A: "Desc A.\n\nBook A.", C: "Book C.", D: "Desc D." });
});

Deno.test("buildEnvironmentPrompt() names a drawn role, the majors as a Python list and the scenario", () => {
  const p = buildEnvironmentPrompt("A storm.", ["Ada", "O'Hara"], new Prng(5));
  const role = ENVIRONMENT_ROLES[new Prng(5).int(ENVIRONMENT_ROLES.length)];
  assert.ok(p.startsWith(`You are the ${role} of a role-playing game.`));
  assert.ok(p.includes(`['Ada', "O'Hara"]`));
  assert.ok(p.endsWith("===The scenario is as follows===\nA storm."));
});

Deno.test("buildNspPrompt() lists candidates, random, <END CHAT> and the output format", () => {
  const p = buildNspPrompt("S.", ["Ada", "Tom", "Environment"]);
  assert.ok(p.includes("['Ada', 'Tom', 'Environment']"));
  assert.match(p, /answer random/);
  assert.match(p, /<END CHAT>/);
  assert.match(p, /===Output Format===\n1\. Reasoning: .*\n2\. Next Speaker: /);
  assert.doesNotMatch(buildNspPrompt("S.", ["A"], "name_only"), /Output Format/);
});

Deno.test("pyList() renders like Python repr", () => {
  assert.equal(pyList([]), "[]");
  assert.equal(
    pyList(["a", "b'c", 'd"e', `f'g"h`, "x\\y"]),
    `['a', "b'c", 'd"e', 'f\\'g"h', 'x\\\\y']`,
  );
});
