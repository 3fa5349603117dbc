import assert from "node:assert/strict";
import { basicInfo, parseProfile, personaHeader } from "./profile.ts";
import { ageAt, EDUCATION_LEVELS, generateProfile, HOBBIES } from "./profile_generator.ts";

Deno.test("generateProfile() is repeatable and internally consistent", () => {
  assert.deepEqual(generateProfile(5), generateProfile(5));
  assert.notDeepEqual(generateProfile(5), generateProfile(6));
  assert.equal(HOBBIES.length, 50);
  assert.equal(EDUCATION_LEVELS.length, 9);
  for (let s = 0; s < 200; s++) {
    const p = parseProfile(generateProfile(s));
    assert.ok(p.Age >= 20 && p.Age <= 55);
    assert.equal(ageAt(p.Date_of_birth, "2024-01-01"), p.Age, `seed ${s}: ${p.Date_of_birth}`);
    assert.equal(p.Hobbies.split(", ").length, 3);
    assert.equal(p.Traits.split(/(?:^|\s)- /).filter(Boolean).length, 20);
  }
});

Deno.test("basicInfo() writes the reference line with extras before the full stop", () => {
  const p = generateProfile(1);
  const line = basicInfo(p, { Pet: "a cat" });
  assert.ok(
    line.startsWith(`Name: ${p.Name}, Age: ${p.Age}, Gender: ${p.Gender}, Date of Birth: `),
  );
  assert.ok(line.includes(`Hobbies: '${p.Hobbies}'`));
  assert.ok(line.endsWith(`Long-term Goal: ${p["Long-term_goal"]}, Pet: a cat.`));
  assert.ok(!line.includes(p.Traits));
  assert.ok(personaHeader(p).includes(p.Traits));
});

Deno.test("parseProfile() names the bad field", () => {
  assert.throws(
    () => parseProfile({ ...generateProfile(1), Date_of_birth: "27/06/1994" }, "p.json"),
    (e: Error & { code?: string }) => e.code === "E_DATA" && /Date_of_birth/.test(e.message),
  );
});
