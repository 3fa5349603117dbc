/**
 * Every plugin command that talks to remote models runs against a strict OpenAI stand-in (which,
 * like OpenAI, answers unknown request fields with 400 "Unrecognized request argument supplied")
 * with zero rejected requests: Dramatis extensions (identities, top_k, constraint, …) are left
 * out for endpoints not known to accept them, and the command says so once.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { strictOpenAI } from "../../core/chat/testing/strict_openai.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const GCA_RECORDS = new URL("../../plugins/gca/data/test_records.json", import.meta.url).pathname;

interface Case {
  name: string;
  args: (model: string, root: string, baseURL: string) => Promise<string[]> | string[];
  /** Extension fields the command would send to a server that accepts them. */
  extensions: string[];
  /** The stand-in's replies (default: its generic ones). */
  reply?: () => (body: Record<string, unknown>) => string | undefined;
}

const CASES: Case[] = [
  {
    name: "hirpf scale",
    extensions: ["identities"],
    args: (m, root) => [
      "hirpf",
      "scale",
      "--model",
      m,
      "--judge",
      m,
      "--identities",
      "EXT_high",
      "--items",
      "1",
      "--follow-ups",
      "1",
      "--votes",
      "1",
      "--max-tokens",
      "16",
      "--cache",
      join(root, "c.sqlite"),
    ],
  },
  {
    name: "hirpf situations",
    extensions: ["identities"],
    args: (m, root) => [
      "hirpf",
      "situations",
      "--model",
      m,
      "--judge",
      m,
      "--identities",
      "EXT_high",
      "--tests",
      "EXT",
      "--exchanges",
      "1",
      "--cache",
      join(root, "c.sqlite"),
    ],
  },
  {
    name: "roleplay generate",
    // A regex-constrained inquirer, and regeneration with a random top_k after a reply with no
    // quoted prompt: both are extensions.
    extensions: ["constraint", "top_k"],
    reply: () => {
      let calls = 0;
      return () => ++calls === 1 ? "Let me think." : 'I ask: "How can I sleep better?"';
    },
    args: (m, root) => [
      "roleplay",
      "generate",
      "--inquirer",
      m,
      "--responder",
      m,
      "--out",
      join(root, "rp"),
      "--samples",
      "1",
      "--personas",
      "1",
      "--turns",
      "2",
      "--plugin-options",
      'roleplay={"regenerateTries":2,"inquirerRegex":"[^\\n]*"}',
    ],
  },
  {
    name: "gca simulate",
    extensions: [],
    args: (m, root) => [
      "gca",
      "simulate",
      "--records",
      GCA_RECORDS,
      "--actor",
      m,
      "--env",
      m,
      "--nsp",
      m,
      "--limit",
      "1",
      "--max-rounds",
      "3",
      "--min-rounds",
      "1",
      "--cache",
      join(root, "c.sqlite"),
      "--out",
      join(root, "sim.json"),
    ],
  },
  {
    name: "macm ask",
    extensions: [],
    args: (m, root) => [
      "macm",
      "ask",
      "--question",
      "How was your day?",
      "--method",
      "prompt",
      "--model",
      m,
      "--cache",
      join(root, "c.sqlite"),
    ],
  },
  {
    name: "persona_vectors judge",
    extensions: [],
    args: async (_m, root, baseURL) => {
      const file = join(root, "rows.csv");
      await Deno.writeTextFile(
        file,
        "question,prompt,answer,question_id,optimistic,coherence\n" +
          "How is life?,How is life?,Life is wonderful!,q0,,\n",
      );
      return [
        "persona_vectors",
        "judge",
        "--trait",
        "optimistic",
        "--in",
        file,
        "--judge-base-url",
        baseURL,
        "--judge-api-model",
        "gpt-4o",
      ];
    },
  },
];

for (const c of CASES) {
  Deno.test(`${c.name} runs against a strict OpenAI stand-in with no rejected request`, async () => {
    const api = strictOpenAI({ reply: c.reply?.() });
    const root = await Deno.makeTempDir({ prefix: "dramatis_strict_" });
    try {
      const model = `${api.baseURL}#gpt-4o`;
      const args = await c.args(model, root, api.baseURL);
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, ...args, "--json"],
        env: { OPENAI_API_KEY: "sk-test", DRAMATIS_CACHE: join(root, "cache") },
        cwd: root,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      const rejected = api.requests.filter((r) => r.rejected !== null);
      assert.deepEqual(rejected.map((r) => r.error), [], stderr.slice(-2000));
      assert.equal(out.code, 0, stderr.slice(-3000));
      const chats = api.requests.filter((r) => r.path.endsWith("/chat/completions"));
      assert.ok(chats.length > 0, "the command made model calls");
      const warnings = stderr.split("\n").filter((l) => l.includes("not known to accept"));
      for (const field of c.extensions) {
        // The command would have sent it; the stand-in never saw it, and the user was told.
        assert.ok(chats.every((r) => !(field in r.body!)), `${field} reached the stand-in`);
        assert.ok(warnings.length >= 1, `no warning about ${field}:\n${stderr.slice(-1500)}`);
        assert.match(warnings[0], new RegExp(`\\b${field}\\b`));
      }
      // Once per model, not once per request.
      assert.ok(warnings.length <= 3, `${warnings.length} warnings for ${chats.length} calls`);
      if (c.extensions.length === 0) assert.equal(warnings.length, 0);
    } finally {
      await api.close();
      await Deno.remove(root, { recursive: true });
    }
  });
}
