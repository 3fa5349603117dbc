/**
 * Builds the quickstart's data files from data the project ships, deterministically:
 *
 * - `chat.jsonl`: the base model's training conversations — every dialogue of the hirpf identity
 *   dataset (train split) without its system prompt, so the base model learns all the styles
 *   mixed and the identity experts have something to select, plus the lighthouse-keeper set.
 * - `prompts.jsonl`: held-out first questions of the hirpf test split (steering sweep prompts).
 * - `goals.jsonl`: three roleplay goals (first of their kind) with one simulated-user persona.
 *
 * Run from the repository root: `deno run -A examples/quickstart/make_data.ts`.
 *
 * @module
 */

import { loadHisDataset } from "../../plugins/hirpf/his_dataset.ts";

const here = new URL(".", import.meta.url).pathname;
const root = new URL("../../", import.meta.url).pathname;

const lines: string[] = [];
for (const r of await loadHisDataset(`${root}plugins/hirpf/data/dialogues/train.json`)) {
  lines.push(
    JSON.stringify({ messages: r.turns.map((t) => ({ role: t.role, content: t.content })) }),
  );
}
lines.push(
  ...(await Deno.readTextFile(`${root}datasets/train/lighthouse_keeper.jsonl`)).trim().split("\n"),
);
await Deno.writeTextFile(`${here}chat.jsonl`, lines.join("\n") + "\n");

const test = await loadHisDataset(`${root}plugins/hirpf/data/dialogues/test.json`);
const seen = new Set<string>();
const prompts = test.map((r) => r.turns[0].content).filter((q) => !seen.has(q) && seen.add(q));
await Deno.writeTextFile(
  `${here}prompts.jsonl`,
  prompts.slice(0, 6).map((prompt) => JSON.stringify({ prompt })).join("\n") + "\n",
);

const goals = (await Deno.readTextFile(`${root}plugins/roleplay/data/goals.jsonl`)).trim().split(
  "\n",
)
  .map((l) => JSON.parse(l) as { kind?: string });
const kinds = new Set<string>();
const firstOfKind = goals.filter((g) => !kinds.has(String(g.kind)) && kinds.add(String(g.kind)));
const persona = {
  age: "a 35 to 44",
  race: "White",
  gender: "Female",
  education: "Bachelor's degree",
  native_english: "is",
};
await Deno.writeTextFile(
  `${here}goals.jsonl`,
  firstOfKind.slice(0, 3).map((goal) =>
    JSON.stringify({ id: `${(goal as { id: string }).id}/quickstart`, persona, goal })
  ).join("\n") + "\n",
);
console.log(`chat.jsonl: ${lines.length} conversations; prompts.jsonl: 6; goals.jsonl: 3`);
