/**
 * Conformance suite for the Adapter role. The adapter's graph fragment is emitted into a
 * recording stand-in of the graph builder, which checks that every value it uses exists.
 *
 * @example
 * ```ts
 * import { adapterConformance } from "./adapter.ts";
 * Deno.test("my adapter conforms", async (t) => {
 *   await adapterConformance(t, { adapter, hooks });
 * });
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Adapter, AdapterGraphOps, LinearHook } from "../../core/contracts/adapter.ts";

/** What the adapter suite needs. */
export interface AdapterConformanceOptions {
  adapter: Adapter;
  /** The hooks a model offers. */
  hooks: LinearHook[];
  /** Batch size for `runtimeInputs`, default 2. */
  batchSize?: number;
  identities?: string[][];
}

/** A stand-in graph builder that records ops and checks that inputs are known values. */
export class RecordingOps implements AdapterGraphOps {
  readonly values = new Set<string>();
  readonly ops: { opType: string; inputs: string[] }[] = [];
  readonly parameters = new Map<string, number[]>();
  readonly runtimeInputs = new Map<string, { dtype: string; shape: (number | string)[] }>();
  #n = 0;

  #fresh(prefix: string): string {
    const name = `${prefix}_${this.#n++}`;
    this.values.add(name);
    return name;
  }
  /** Declares an existing value (the hook input). */
  declare(name: string): string {
    this.values.add(name);
    return name;
  }
  op(opType: string, inputs: string[], _a?: Record<string, unknown>, o?: { outputs?: number }) {
    for (const i of inputs) {
      if (i !== "") assert.ok(this.values.has(i), `${opType} uses unknown value ${i}`);
    }
    this.ops.push({ opType, inputs });
    return Array.from({ length: o?.outputs ?? 1 }, () => this.#fresh(opType));
  }
  constant(data: Float32Array | number[], shape: number[]): string {
    assert.equal(data.length, shape.reduce((a, b) => a * b, 1));
    return this.#fresh("const");
  }
  constantInt(data: number[], shape: number[]): string {
    assert.equal(data.length, shape.reduce((a, b) => a * b, 1));
    return this.#fresh("const_int");
  }
  parameter(name: string, shape: number[]): string {
    assert.ok(!this.parameters.has(name), `parameter ${name} declared twice`);
    this.parameters.set(name, shape);
    return this.declare(name);
  }
  runtimeInput(name: string, dtype: "float32" | "int64" | "bool", shape: (number | string)[]) {
    if (!this.runtimeInputs.has(name)) this.runtimeInputs.set(name, { dtype, shape });
    return this.declare(name);
  }
}

/** Runs the Adapter conformance checks as steps of `t`. */
export async function adapterConformance(
  t: Deno.TestContext,
  options: AdapterConformanceOptions,
): Promise<void> {
  const { adapter, hooks } = options;
  const ops = new RecordingOps();
  await t.step("targets are among the offered hooks", () => {
    const names = new Set(hooks.map((h) => h.name));
    const targets = adapter.targets(hooks);
    assert.ok(targets.length > 0, "the adapter attaches nowhere");
    for (const name of targets) assert.ok(names.has(name), `unknown hook ${name}`);
  });
  await t.step("parameters have unique names and data matching their shapes", () => {
    const seen = new Set<string>();
    for (const p of adapter.parameters()) {
      assert.ok(!seen.has(p.name), `duplicate parameter ${p.name}`);
      seen.add(p.name);
      assert.equal(p.data.length, p.shape.reduce((a, b) => a * b, 1), p.name);
    }
  });
  await t.step("emit builds a fragment from known values and declared parameters", () => {
    const targets = new Set(adapter.targets(hooks));
    for (const hook of hooks.filter((h) => targets.has(h.name))) {
      const input = ops.declare(`${hook.name}.input`);
      const out = adapter.emit(hook, input, ops);
      assert.ok(ops.values.has(out), `emit for ${hook.name} returned an unknown value`);
    }
    const params = new Map(adapter.parameters().map((p) => [p.name, p.shape]));
    for (const [name, shape] of ops.parameters) {
      assert.deepEqual(params.get(name), shape, `graph parameter ${name} is not in parameters()`);
    }
  });
  await t.step("runtime inputs match the declared inputs", () => {
    if (!adapter.runtimeInputs) return;
    const batchSize = options.batchSize ?? 2;
    const feeds = adapter.runtimeInputs({
      batchSize,
      ...(options.identities ? { extensions: { identities: options.identities } } : {}),
    });
    for (const [name, decl] of ops.runtimeInputs) {
      const feed = feeds[name];
      assert.ok(feed, `no runtime feed for ${name}`);
      assert.equal(feed.dtype, decl.dtype);
      assert.equal(feed.data.length, feed.shape.reduce((a, b) => a * b, 1));
      decl.shape.forEach((d, i) => {
        if (typeof d === "number") assert.equal(feed.shape[i], d, `${name} dim ${i}`);
      });
    }
  });
  await t.step("save writes files", async () => {
    const dir = await Deno.makeTempDir();
    try {
      await adapter.save(dir);
      const entries = [];
      for await (const e of Deno.readDir(dir)) entries.push(e.name);
      assert.ok(entries.length > 0, "save wrote nothing");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
