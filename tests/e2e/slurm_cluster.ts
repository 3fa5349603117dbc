/**
 * A real single-node Slurm cluster for tests: munged with a key made here, slurmctld and slurmd
 * on loopback, every file (slurm.conf, cgroup.conf, state, spool, logs, munge socket) in a
 * temporary folder. Debian's `slurm-wlm` and `munge` packages provide the daemons (`.ci/run`
 * installs them). `SLURM_CONF` in {@link SlurmCluster.env} points sbatch, squeue, scontrol and
 * scancel at it. The daemons run as root (`SlurmUser=root`), as the jobs do.
 *
 * @module
 */

import { join } from "node:path";

/** A running test cluster. */
export interface SlurmCluster {
  dir: string;
  /** Environment for Slurm clients (`SLURM_CONF`). */
  env: Record<string, string>;
  /** Runs a Slurm client command; throws on failure. */
  client(command: string, args: string[]): Promise<string>;
  /** `scontrol show job -o <id>`: one line per job or array task, as key=value maps. */
  jobs(id: string): Promise<Record<string, string>[]>;
  /** Stops every daemon this helper started and removes its folder. */
  stop(): Promise<void>;
  /** The daemon logs, for failure messages. */
  logs(): Promise<string>;
}

const BINARIES = ["munged", "slurmctld", "slurmd", "sbatch", "scontrol", "scancel", "sinfo"];

function onPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":").concat(["/usr/sbin", "/sbin"])) {
    try {
      const path = join(dir, name);
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not here */ }
  }
  return undefined;
}

/** Why a cluster cannot be started here (missing programs, not root), or undefined. */
export function slurmUnavailable(): string | undefined {
  if (Deno.build.os !== "linux") return "Slurm test cluster needs Linux";
  const missing = BINARIES.filter((b) => !onPath(b));
  if (missing.length) {
    return `Slurm/munge programs not installed (${missing.join(", ")}); ` +
      "apt-get install slurm-wlm munge (.ci/run does)";
  }
  if (Deno.uid() !== 0) return "the Slurm test cluster runs its daemons as root; not root here";
  return undefined;
}

/** Two distinct free loopback ports (both held while the second is chosen). */
function freePorts(): [number, number] {
  const a = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const b = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const ports: [number, number] = [(a.addr as Deno.NetAddr).port, (b.addr as Deno.NetAddr).port];
  a.close();
  b.close();
  return ports;
}

function parseJobLine(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of line.matchAll(/(\S+?)=(\S*)/g)) if (!(m[1] in out)) out[m[1]] = m[2];
  return out;
}

/**
 * Starts munged, slurmctld and slurmd, and waits until the node is idle. Returns the reason
 * instead when the cluster cannot start (so the caller skips); a failed start stops whatever
 * it had started.
 *
 * @example
 * ```ts
 * import { startSlurmCluster } from "./slurm_cluster.ts";
 * const cluster = await startSlurmCluster();
 * if (typeof cluster !== "string") await cluster.stop();
 * ```
 */
export async function startSlurmCluster(
  options: { cpus?: number; timeoutMs?: number } = {},
): Promise<SlurmCluster | string> {
  const why = slurmUnavailable();
  if (why) return why;
  const dir = await Deno.makeTempDir({ prefix: "slurm_e2e_" });
  const children: { name: string; process: Deno.ChildProcess }[] = [];
  const p = (name: string) => join(dir, name);
  for (const sub of ["state", "spool", "log", "munge", "munge-key"]) {
    await Deno.mkdir(p(sub), { recursive: true });
  }
  await Deno.chmod(p("munge"), 0o755);
  await Deno.chmod(p("munge-key"), 0o700);
  const socket = p("munge/munge.socket");
  const host = Deno.hostname();
  const env = { SLURM_CONF: p("slurm.conf") };

  const stop = async () => {
    if (children.some((c) => c.name === "slurmctld")) {
      // Jobs first, so that no job step outlives the daemons.
      await new Deno.Command("scancel", { args: ["--user=root"], env, stdin: "null" }).output()
        .catch(() => {});
      await new Promise((r) => setTimeout(r, 1000));
    }
    for (const { process } of children.reverse()) {
      try {
        process.kill("SIGTERM");
      } catch { /* already gone */ }
    }
    for (const { process } of children) {
      const timer = setTimeout(() => {
        try {
          process.kill("SIGKILL");
        } catch { /* gone */ }
      }, 5000);
      await process.status.catch(() => {});
      clearTimeout(timer);
    }
    children.length = 0;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const logs = async () => {
    const parts: string[] = [];
    for (const name of ["slurmctld.log", "slurmd.log", "munged.log"]) {
      const text = await Deno.readTextFile(p(`log/${name}`)).catch(() => "");
      parts.push(`--- ${name}\n${text.split("\n").slice(-40).join("\n")}`);
    }
    return parts.join("\n");
  };
  const client = async (command: string, args: string[]) => {
    const r = await new Deno.Command(command, { args, env, stdin: "null" }).output();
    const out = new TextDecoder().decode(r.stdout);
    if (!r.success) {
      throw new Error(`${command} ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
    }
    return out;
  };
  const spawn = (name: string, command: string, args: string[]) => {
    const process = new Deno.Command(onPath(command)!, {
      args,
      env,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    children.push({ name, process });
  };

  try {
    const key = crypto.getRandomValues(new Uint8Array(1024));
    await Deno.writeFile(p("munge-key/munge.key"), key, { mode: 0o400 });
    await Deno.chmod(p("munge-key/munge.key"), 0o400);
    const [ctldPort, slurmdPort] = freePorts();
    const cpus = options.cpus ?? 4;
    await Deno.writeTextFile(
      p("slurm.conf"),
      [
        "ClusterName=dramatis-test",
        `SlurmctldHost=${host}(127.0.0.1)`,
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${slurmdPort}`,
        "SlurmUser=root",
        "SlurmdUser=root",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        `AuthInfo=socket=${socket}`,
        `StateSaveLocation=${p("state")}`,
        `SlurmdSpoolDir=${p("spool")}`,
        `SlurmctldPidFile=${p("slurmctld.pid")}`,
        `SlurmdPidFile=${p("slurmd.pid")}`,
        `SlurmctldLogFile=${p("log/slurmctld.log")}`,
        `SlurmdLogFile=${p("log/slurmd.log")}`,
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_CPU",
        "SchedulerType=sched/backfill",
        "SchedulerParameters=sched_interval=1",
        "MpiDefault=none",
        "SwitchType=switch/none",
        "MailProg=/bin/true",
        "ReturnToService=2",
        "SlurmdParameters=config_overrides",
        "MinJobAge=3600",
        "KillWait=5",
        // The node declares more CPUs than the machine may have (config_overrides), so that the
        // three array tasks can run at once; the jobs are small.
        `NodeName=node0 NodeHostname=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=4000 ` +
        "State=UNKNOWN",
        "PartitionName=test Nodes=node0 Default=YES MaxTime=INFINITE State=UP",
        "",
      ].join("\n"),
    );
    // No cgroup plugin is used (proctrack/linuxproc, task/none); the file keeps slurmd from
    // looking for the system one.
    await Deno.writeTextFile(p("cgroup.conf"), "CgroupPlugin=autodetect\n");

    spawn("munged", "munged", [
      "-F",
      "-f",
      `--key-file=${p("munge-key/munge.key")}`,
      `--socket=${socket}`,
      `--pid-file=${p("munge/munged.pid")}`,
      `--log-file=${p("log/munged.log")}`,
      `--seed-file=${p("munge/munged.seed")}`,
    ]);
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    const waitFor = async (what: string, ok: () => Promise<boolean>) => {
      while (!(await ok().catch(() => false))) {
        for (const c of children) {
          const state = await Promise.race([
            c.process.status.then((s) => s),
            new Promise<null>((r) => setTimeout(() => r(null), 1)),
          ]);
          if (state) {
            throw new Error(`${c.name} exited with ${state.code} while waiting for ${what}`);
          }
        }
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await waitFor("the munge socket", async () => (await Deno.stat(socket)).isSocket === true);
    spawn("slurmctld", "slurmctld", ["-D", "-i", "-f", env.SLURM_CONF]);
    spawn("slurmd", "slurmd", ["-D", "-N", "node0", "-f", env.SLURM_CONF]);
    await waitFor("node0 to be idle", async () => {
      const out = await client("sinfo", ["-h", "-n", "node0", "-o", "%T"]);
      return out.trim() === "idle";
    });
    return {
      dir,
      env,
      client,
      async jobs(id: string) {
        const out = await client("scontrol", ["show", "job", "-o", id]);
        return out.split("\n").filter((l) => l.trim()).map(parseJobLine);
      },
      stop,
      logs,
    };
  } catch (error) {
    const text = await logs();
    await stop();
    return `the Slurm test cluster did not start (${(error as Error).message})\n${text}`;
  }
}
