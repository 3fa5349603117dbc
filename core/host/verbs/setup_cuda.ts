/**
 * `dramatis setup-cuda`: runs onnxruntime-node's own install step for its CUDA libraries (needs
 * network access, CUDA 12 and cuDNN 9 on the host).
 *
 * @module
 */

import { setupCuda } from "../../runtime/setup_cuda.ts";
import { printJson } from "../verb.ts";
import type { HostVerb } from "../verb.ts";

/** The `setup-cuda` verb. */
export const setupCudaVerb: HostVerb = {
  name: "setup-cuda",
  description: "Fetch onnxruntime-node's CUDA execution-provider libraries (needs network, " +
    "CUDA 12 and cuDNN 9). Without them `--provider cuda` fails with a message naming this command.",
  flags: { force: { type: "boolean", description: "download again even when present" } },
  async run(args, ctx) {
    const result = await setupCuda({
      force: args.flags.force === true,
      log: ctx.json ? undefined : (line) => ctx.log(line),
    });
    if (ctx.json) printJson({ ...result, output: undefined });
    else {
      console.log(
        result.alreadyPresent
          ? `CUDA provider libraries are already in ${result.dir}`
          : `Installed CUDA provider libraries into ${result.dir}`,
      );
    }
    return 0;
  },
};
