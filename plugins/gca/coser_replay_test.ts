/**
 * Reproduction oracle: CoSER released its own GPT-4o simulation (`exp/simulation/
 * test_set_gpt-4o.json`) and the judged scores (`exp/evaluation/test_set_gpt-4o.json`). A stand-in
 * OpenAI endpoint on loopback answers each critic request with the critique the authors recorded
 * for that case and dimension; `gca judge` (the real CLI, over HTTP) must then give exactly the
 * released per-case scores, dimension averages, average and BLEU. ROUGE-L: see the README
 * ("ROUGE-L and the released number") for which implementation gives which number.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { renderMessages } from "./judge.ts";
import { rougeL, rougeLTokens } from "./metrics/rouge_l.ts";
import { parseTestRecord } from "./schemas.ts";

const UPSTREAM = new URL("../../../shared/upstream/coser/exp/", import.meta.url);
const SIMS = new URL("simulation/test_set_gpt-4o.json", UPSTREAM).pathname;
const EVAL = new URL("evaluation/test_set_gpt-4o.json", UPSTREAM).pathname;
const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const present = existsSync(SIMS) && existsSync(EVAL);
if (!present) console.warn(`skipped: ${SIMS} or ${EVAL} is absent (../shared/upstream)`);

type Critique = Record<string, { flaws: unknown[]; score: number }>;
interface ReleasedCase {
  simulation_str: string;
  score: number;
  critique: Critique;
}

/** A stand-in OpenAI endpoint replaying the recorded critiques, keyed by transcript. */
function replayServer(cases: Record<string, ReleasedCase>) {
  const byTranscript = new Map(Object.values(cases).map((c) => [c.simulation_str, c]));
  const unmatched: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json();
    const user = body.messages.find((m: { role: string }) => m.role === "user")?.content ?? "";
    const schema = body.response_format?.json_schema?.schema;
    const dimension = Object.keys(schema?.properties ?? {})[0];
    const found = byTranscript.get(user);
    if (!found || !dimension || !found.critique[dimension]) {
      unmatched.push(user.slice(0, 80));
      return Response.json({ error: { message: "no recorded critique" } }, { status: 400 });
    }
    const content = JSON.stringify({ [dimension]: { flaws: found.critique[dimension].flaws } });
    return Response.json({
      id: "chatcmpl-replay",
      object: "chat.completion",
      created: 0,
      model: body.model,
      choices: [{
        index: 0,
        message: { role: "assistant", content },
        finish_reason: "stop",
        logprobs: null,
      }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    });
  });
  return { server, unmatched };
}

Deno.test({
  name: "gca judge replays CoSER's released GPT-4o critiques to the released scores and BLEU",
  ignore: !present,
  async fn() {
    const released = JSON.parse(await Deno.readTextFile(EVAL)) as {
      scores: Record<string, number>;
      cases: Record<string, ReleasedCase>;
    };
    const { server, unmatched } = replayServer(released.cases);
    const dir = await Deno.makeTempDir();
    try {
      const out = join(dir, "eval.json");
      const run = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          MAIN,
          "gca",
          "judge",
          "--simulations",
          SIMS,
          "--judge",
          `http://127.0.0.1:${server.addr.port}/v1#gpt-4o-2024-08-06`,
          "--cache",
          join(dir, "cache.sqlite"),
          "--out",
          out,
          "--json",
        ],
        stdout: "piped",
        stderr: "piped",
        env: { OPENAI_API_KEY: "replay" },
      }).output();
      const stderr = new TextDecoder().decode(run.stderr);
      assert.equal(run.code, 0, stderr);
      assert.deepEqual(unmatched, []);
      const ours = JSON.parse(await Deno.readTextFile(out));
      assert.equal(ours.complete, true);
      assert.equal(ours.metadata.null_verdicts, 0);
      assert.equal(ours.metadata.comparable, true);
      // Per case: the released case score and every dimension score, exactly.
      assert.deepEqual(Object.keys(ours.cases).sort(), Object.keys(released.cases).sort());
      for (const [id, c] of Object.entries(released.cases)) {
        assert.equal(ours.cases[id].score, c.score, id);
        for (const [dim, v] of Object.entries(c.critique)) {
          assert.equal(ours.cases[id].critique[dim].score, v.score, `${id} ${dim}`);
        }
      }
      // Run level: 66.1667 / 52.8333 / 51.1667 / 79.5, avg 62.4167, BLEU 0.025274846771.
      for (
        const k of [
          "Storyline Consistency",
          "Anthropomorphism",
          "Character Fidelity",
          "Storyline Quality",
          "avg",
          "bleu",
        ]
      ) {
        assert.ok(
          Math.abs(ours.scores[k] - released.scores[k]) < 1e-12,
          `${k}: ${ours.scores[k]} vs released ${released.scores[k]}`,
        );
      }
      assert.equal(ours.scores.bleu.toFixed(12), "0.025274846771");
    } finally {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "ROUGE-L on CoSER's released GPT-4o run: which implementation gives which number",
  ignore: !present,
  async fn() {
    const sims = JSON.parse(await Deno.readTextFile(SIMS)) as {
      book_title: string;
      i_p: number;
      i_c: number;
      circumstance: unknown;
      simulation: { role: string; content: string }[];
    }[];
    const released = JSON.parse(await Deno.readTextFile(EVAL)) as {
      scores: Record<string, number>;
      cases: Record<string, { critique: { rouge_l: number } }>;
    };
    const summary: number[] = [];
    const tokens: Record<string, number> = {};
    for (const s of sims) {
      const id = `${s.book_title}-${s.i_p}-${s.i_c}`;
      const hyp = renderMessages(s.simulation.filter((e) => e.role !== "NSP"));
      const ref = renderMessages(
        parseTestRecord(s.circumstance).dialogues.map((d) => ({
          role: d.character,
          content: d.message,
        })),
      );
      summary.push(rougeL(hyp, ref).f);
      tokens[id] = rougeLTokens(hyp, ref).f;
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // The current `rouge` package's summary-level ROUGE-L (what `gca judge` reports): 0.14119.
    assert.equal(mean(summary).toFixed(5), "0.14119");
    // Whole-text token LCS: King Lear-16-0 exactly as released, the mean within 0.0001 of 0.08388.
    assert.equal(tokens["King Lear-16-0"], released.cases["King Lear-16-0"].critique.rouge_l);
    assert.equal(tokens["King Lear-17-0"].toFixed(7), "0.0725514");
    assert.equal(released.cases["King Lear-17-0"].critique.rouge_l.toFixed(7), "0.0724638");
    assert.equal(tokens["Othello-9-0"].toFixed(7), "0.0734694");
    assert.equal(released.cases["Othello-9-0"].critique.rouge_l.toFixed(7), "0.0732700");
    assert.equal(mean(Object.values(tokens)).toFixed(6), "0.083974");
    assert.equal(released.scores.rouge_l.toFixed(6), "0.083878");
  },
});
