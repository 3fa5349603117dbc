import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { errorCode } from "../../core/errors.ts";
import { loadCharacterDir } from "./character_dir.ts";
import { functionStackOf, importHumanSimulacra, parseTraitPool } from "./import_release.ts";
import { parseQuestionnaire } from "./questionnaire.ts";

const RELEASE = new URL("../../../shared/upstream/human_simulacra/Characters", import.meta.url)
  .pathname;
const present = existsSync(RELEASE);
if (!present) console.warn(`skipped: ${RELEASE} is absent (../shared/upstream)`);

Deno.test('parseQuestionnaire() reads released cloze options [""] as none and rejects keys outside the options', () => {
  const [cloze] = parseQuestionnaire([
    { type: "Cloze", question: "What is your name?", options: [""], answer: ["Ada"] },
  ]);
  assert.deepEqual(cloze.options, []);
  const item = { type: "Single_choice", question: "Q?", options: ["A. x", "B. y"], answer: ["C"] };
  assert.throws(
    () => parseQuestionnaire([item], "q.json"),
    (e: Error) =>
      errorCode(e) === "E_DATA" &&
      /^q\.json: record 0: answer: \["C"\] is not among the options \(A, B\)/.test(e.message),
  );
  assert.throws(
    () => parseQuestionnaire([{ ...item, answer: ["A", "B"] }], "q.json"),
    /record 0: answer: is \["A","B"\]; a Single_choice item needs exactly one answer letter/,
  );
});

Deno.test({
  name: "importHumanSimulacra() writes one folder per released character and reports the gaps",
  ignore: !present,
  async fn() {
    const out = await Deno.makeTempDir();
    try {
      const chars = await importHumanSimulacra(RELEASE, out);
      assert.equal(chars.length, 11);
      const complete = chars.filter((c) => c.missing.length === 0).map((c) => c.name).sort();
      assert.deepEqual(complete, ["Erica Walker", "Kevin Kelly", "Mary Jones", "Sara Ochoa"]);
      const zero = chars.find((c) => c.id === "000")!;
      assert.equal(zero.name, "Marsh Zhaleh");
      assert.match(zero.notes.join("\n"), /"Tianqi Zhang" in character_profiles\.json/);
      assert.ok(zero.missing.some((m) => m.startsWith("memory")));
      // Function stacks derived from Attributes/traits.txt for all 11 (profile 003 by suffix).
      assert.equal(chars.filter((c) => c.parts[0] === "profile (with Function_stack)").length, 11);
      assert.match(chars.find((c) => c.id === "003")!.notes.join("\n"), /read as "My hunches/);
      const mary = await loadCharacterDir(chars.find((c) => c.id === "001")!.dir);
      assert.deepEqual(mary.profile.Function_stack, [
        "Se",
        "Ti",
        "Fi",
        "Ni",
        "Te",
        "Si",
        "Ne",
        "Fe",
      ]);
      for (const c of chars.filter((c) => complete.includes(c.name))) {
        const folder = await loadCharacterDir(c.dir);
        assert.equal(folder.profile.Name, c.name);
        assert.ok(folder.story.length > 0 && folder.biography.length > 0);
        assert.deepEqual(Object.keys(folder.questions).sort(), [
          "Cloze",
          "Multiple_choices",
          "Single_choice",
        ]);
        // The released memories, unchanged.
        const released = JSON.parse(
          await Deno.readTextFile(join(RELEASE, "Memories", c.name, "long_memory.json")),
        );
        assert.deepEqual(folder.memory?.long, released);
      }
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test("functionStackOf() ranks functions by sentence counts 4,3,2,1 | 1,2,3,4, then position", () => {
  const fns = ["Ne", "Ni", "Se", "Si", "Te", "Ti", "Fe", "Fi"];
  const pool = parseTraitPool(
    fns.map((f) => `${f}\n${[1, 2, 3, 4].map((k) => `${f} says ${k}.`).join(" ")}`).join("\n"),
  );
  const take = (f: string, n: number) =>
    Array.from({ length: n }, (_, k) => `- ${f} says ${k + 1}.`);
  // Stack Ti Ne Fe Si | Se Fi Te Ni, with the first two blocks interleaved as in released profile 010.
  const traits = [
    take("Ti", 1),
    take("Ne", 3),
    take("Ti", 4).slice(1),
    take("Fe", 2),
    take("Si", 1),
    take("Se", 1),
    take("Fi", 2),
    take("Te", 3),
    take("Ni", 4),
  ].flat().join(" ");
  const r = functionStackOf(traits, pool);
  assert.ok("stack" in r);
  assert.deepEqual(r.stack, ["Ti", "Ne", "Fe", "Si", "Se", "Fi", "Te", "Ni"]);
  assert.match(
    (functionStackOf("- Ne says 1. - Nobody said this.", pool) as { reason: string }).reason,
    /"Nobody said this\." is not in Attributes\/traits\.txt/,
  );
});

Deno.test({
  name: "macm ask --method macm answers an imported character from its released memories",
  ignore: !present,
  async fn() {
    const out = await Deno.makeTempDir();
    // A stand-in OpenAI endpoint: the retrieval agent names memory "001"; every other call
    // (thinking, emotion, the answer) echoes whether the released memory reached it.
    const released = JSON.parse(
      await Deno.readTextFile(join(RELEASE, "Memories", "Mary Jones", "long_memory.json")),
    );
    const content = released["001"].Memory["Memory Content"] as string;
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const body = await req.json();
      const text = body.messages.map((m: { content: string }) => m.content).join("\n");
      const reply = text.includes("You help find")
        ? (text.includes('"001"') ? 'The most relevant is "001".' : "")
        : text.includes(content.slice(0, 80))
        ? "I remember the warmth of our little apartment."
        : "no memory reached me";
      return Response.json({
        id: "x",
        object: "chat.completion",
        created: 0,
        model: body.model,
        choices: [{
          index: 0,
          message: { role: "assistant", content: reply },
          finish_reason: "stop",
        }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      });
    });
    try {
      await importHumanSimulacra(RELEASE, out);
      const run = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("../../main.ts", import.meta.url).pathname,
          "macm",
          "ask",
          "--character",
          join(out, "mary_jones"),
          "--model",
          `http://127.0.0.1:${server.addr.port}/v1#stand-in`,
          "--method",
          "macm",
          "--question",
          "What was home like when you were small?",
          "--cache",
          "off",
          "--json",
        ],
        env: { OPENAI_API_KEY: "stand-in" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
      const turn = JSON.parse(new TextDecoder().decode(run.stdout));
      assert.deepEqual(turn.memory_agent.candidate_ids, ["001"]);
      assert.deepEqual(turn.memory_agent.selected["001"], released["001"].Memory);
      assert.equal(turn.answer, "I remember the warmth of our little apartment.");
    } finally {
      await server.shutdown();
      await Deno.remove(out, { recursive: true });
    }
  },
});
