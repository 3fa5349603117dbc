/**
 * Kubernetes: an Indexed Job (`completionMode: Indexed`) with one completion per shard, each pod
 * running `dramatis run --shard auto/N` (the index comes from `JOB_COMPLETION_INDEX`), and a
 * merge Job created suspended, to be resumed once the shards completed. A failed index is
 * retried alone (`backoffLimitPerIndex`) and resumes its finished items. The pods share one
 * ReadWriteMany volume that holds the checkout, the experiment and the runs at the same paths
 * as on the submitting machine.
 *
 * @module
 */

import { relative } from "node:path";
import { stringify } from "yaml";
import { UsageError } from "../../errors.ts";
import { type JobPlan, mergeArgv, REPO_ROOT, shardArgv } from "./job_plan.ts";

/** Kubernetes settings of a manifest. */
export interface K8sOptions {
  /** Container image with deno on PATH. */
  image: string;
  /** The ReadWriteMany PersistentVolumeClaim holding checkout, data and runs. */
  pvc: string;
  /** Where the claim is mounted (the paths in the commands lie under it). */
  mountPath: string;
  namespace?: string;
  /** Pods at once (default: every shard). */
  maxParallel?: number;
  /** Retries of one failed index before it counts as failed. */
  backoffLimitPerIndex: number;
  /** A Secret whose keys become environment variables (API keys of model endpoints). */
  secret?: string;
  /** CPU and memory requests of each pod (`"4"`, `"16Gi"`). */
  cpu?: string;
  memory?: string;
  /**
   * `DRAMATIS_CACHE` of the pods (hub snapshots, exported graphs), on the shared volume so that
   * models fetched before submitting are found.
   */
  cacheDir?: string;
  /** Checkout the commands run (default: this one). */
  repoRoot?: string;
}

/** A DNS-1123 name from an experiment name (lower case, `-`, at most `max` characters). */
function dnsName(text: string, max: number): string {
  const name = text.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "")
    .slice(0, max).replace(/-+$/, "");
  return name || "experiment";
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !rel.startsWith("/"));
}

/**
 * The two Job objects: the Indexed Job of the shards and the suspended merge Job.
 *
 * @example
 * ```ts
 * import { dramatisCommand, makeJobPlan } from "./job_plan.ts";
 * import { k8sJobs } from "./k8s_job.ts";
 * const plan = makeJobPlan({
 *   name: "study", configHash: "ab12", experiment: "/srv/exp.json", shards: 3,
 *   workdir: "/srv", dramatis: dramatisCommand("deno", "/srv/"), globalArgs: [],
 * });
 * const [shards] = k8sJobs(plan, {
 *   image: "denoland/deno:2.9.6", pvc: "shared", mountPath: "/srv", backoffLimitPerIndex: 2,
 *   repoRoot: "/srv/",
 * });
 * console.log(shards.spec.completions); // 3
 * ```
 */
// deno-lint-ignore no-explicit-any
export function k8sJobs(plan: JobPlan, o: K8sOptions): any[] {
  const repo = o.repoRoot ?? REPO_ROOT;
  for (
    const [what, path] of [
      ["the working directory", plan.workdir],
      ["the checkout", repo],
      ["the experiment", plan.experiment],
      ["the run directory", plan.out],
      ...(o.cacheDir ? [["the model cache (DRAMATIS_CACHE)", o.cacheDir]] : []),
    ]
  ) {
    if (!inside(o.mountPath, path)) {
      throw new UsageError(
        `${what} ${path} lies outside --mount-path ${o.mountPath}; the pods see only the shared ` +
          "volume, so put it there or mount the volume higher",
      );
    }
  }
  const base = dnsName(`dramatis-${plan.name}`, 56);
  const labels = {
    "app.kubernetes.io/name": "dramatis",
    "dramatis.dev/experiment": dnsName(plan.name, 63),
    "dramatis.dev/config-hash": plan.configHash.slice(0, 12),
  };
  const resources = o.cpu || o.memory
    ? {
      resources: {
        requests: {
          ...(o.cpu ? { cpu: o.cpu } : {}),
          ...(o.memory ? { memory: o.memory } : {}),
        },
      },
    }
    : {};
  const container = (name: string, command: string[]) => ({
    name,
    image: o.image,
    workingDir: plan.workdir,
    command,
    ...(o.cacheDir ? { env: [{ name: "DRAMATIS_CACHE", value: o.cacheDir }] } : {}),
    ...(o.secret ? { envFrom: [{ secretRef: { name: o.secret } }] } : {}),
    ...resources,
    volumeMounts: [{ name: "shared", mountPath: o.mountPath }],
  });
  const pod = (name: string, command: string[]) => ({
    metadata: { labels },
    spec: {
      restartPolicy: "Never",
      containers: [container(name, command)],
      volumes: [{ name: "shared", persistentVolumeClaim: { claimName: o.pvc } }],
    },
  });
  const meta = (name: string) => ({
    name,
    ...(o.namespace ? { namespace: o.namespace } : {}),
    labels,
  });
  return [
    {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: meta(`${base}-shards`),
      spec: {
        completionMode: "Indexed",
        completions: plan.shards,
        parallelism: Math.min(plan.shards, o.maxParallel ?? plan.shards),
        backoffLimitPerIndex: o.backoffLimitPerIndex,
        template: pod("shard", shardArgv(plan)),
      },
    },
    {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: meta(`${base}-merge`),
      spec: {
        suspend: true,
        completions: 1,
        backoffLimit: 1,
        template: pod("merge", mergeArgv(plan)),
      },
    },
  ];
}

/**
 * The manifest as YAML documents with the commands that apply it.
 *
 * @example
 * ```ts
 * import { dramatisCommand, makeJobPlan } from "./job_plan.ts";
 * import { k8sManifest } from "./k8s_job.ts";
 * const plan = makeJobPlan({
 *   name: "study", configHash: "ab12", experiment: "/srv/exp.json", shards: 3,
 *   workdir: "/srv", dramatis: dramatisCommand("deno", "/srv/"), globalArgs: [],
 * });
 * console.log(k8sManifest(plan, {
 *   image: "denoland/deno:2.9.6", pvc: "shared", mountPath: "/srv", backoffLimitPerIndex: 2,
 *   repoRoot: "/srv/",
 * }));
 * ```
 */
export function k8sManifest(plan: JobPlan, o: K8sOptions): string {
  const [shards, merge] = k8sJobs(plan, o);
  const ns = o.namespace ? ` -n ${o.namespace}` : "";
  return [
    `# Experiment '${plan.name}' (config hash ${plan.configHash.slice(0, 12)}) in ${plan.shards}` +
    " shards, written by `dramatis submit --k8s --dry-run`.",
    `# The claim '${o.pvc}' (ReadWriteMany) must hold the checkout, the experiment and the runs at`,
    `# the same paths as here, mounted at ${o.mountPath}. Run it with:`,
    `#   kubectl apply${ns} -f <this file>`,
    `#   kubectl wait${ns} --for=condition=complete --timeout=24h job/${shards.metadata.name}`,
    `#   kubectl patch${ns} job/${merge.metadata.name} --type=merge -p '{"spec":{"suspend":false}}'`,
    "# A failed index is retried alone (backoffLimitPerIndex) and resumes its finished items.",
    "---",
    stringify(shards, { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd(),
    "---",
    stringify(merge, { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd(),
    "",
  ].join("\n");
}
