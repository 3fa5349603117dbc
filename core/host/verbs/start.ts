/**
 * `dramatis start`: the main job. Until the quickstart experiment lands it runs the most complete
 * end-to-end path that exists: it loads the example third-party plugin by path through the
 * registry, validates its options, builds its judge and scores a few persona replies.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { Judge } from "../../contracts/judge.ts";
import { printJson } from "../verb.ts";
import type { HostVerb } from "../verb.ts";

const EXAMPLE = new URL("../../../examples/third_party_plugin/mod.ts", import.meta.url);

const SAMPLE_REPLIES = [
  { persona: "optimist", text: "What a wonderful plan! I'm really excited, it will be great." },
  { persona: "pessimist", text: "It will not work. This is a pointless, gloomy disaster." },
  { persona: "neutral", text: "The train leaves at nine and arrives at noon." },
];

/** The `start` verb. */
export const startVerb: HostVerb = {
  name: "start",
  description: "Run the quickstart: the most complete end-to-end path available in this version.",
  async run(_args, ctx) {
    const path = fileURLToPath(EXAMPLE);
    if (!ctx.registry.has("lexicon_judge")) await ctx.registry.load(path);
    const roles = await ctx.registry.instantiate(
      "lexicon_judge",
      ctx.pluginOptions.get("lexicon_judge") ?? {},
    );
    const judge = roles.judges!.valence as Judge<string, { score: number }>;
    const rows = [];
    for (const reply of SAMPLE_REPLIES) {
      const verdict = await judge.judge(reply.text, {});
      rows.push({ ...reply, score: verdict.value?.score ?? null });
    }
    if (ctx.json) printJson({ plugins: ctx.registry.names(), results: rows });
    else {
      console.log(`Loaded plugins: ${ctx.registry.names().join(", ")}`);
      console.log("Valence of sample persona replies (lexicon_judge, -1 … +1):");
      for (const r of rows) {
        console.log(`  ${r.persona.padEnd(10)} ${r.score?.toFixed(3) ?? "null"}  ${r.text}`);
      }
      console.log(
        "\nThe engine, training, server and method plugins arrive with their issues; " +
          "see README.md.",
      );
    }
    return 0;
  },
};
