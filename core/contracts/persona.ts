/**
 * The Persona contract: a base model plus adapters (with active identities), steering entries and
 * a system prompt. Personas are kept as JSON files in a directory and served by model name.
 *
 * @module
 */

import { z } from "zod";

/** A steering entry as a persona file writes it (see `steerer.ts` for the layer convention). */
export const SteeringEntrySchema = z.object({
  vector: z.string().min(1),
  coefficient: z.number(),
  layer: z.number().int().min(1),
  positions: z.enum(["all", "prompt", "response"]).default("response"),
  type: z.enum(["add", "ablate"]).default("add"),
});

/**
 * A steering entry that names a loaded plugin's Steerer (`steerer`: `<plugin>` or
 * `<plugin>.<name>`), with the config its factory takes.
 */
export const SteererEntrySchema = z.object({
  steerer: z.string().regex(/^[a-z][a-z0-9_]*(\.[A-Za-z0-9_-]+)?$/, "<plugin> or <plugin>.<name>"),
  config: z.record(z.string(), z.unknown()).default({}),
}).strict();

/** Either kind of steering entry: a vector entry or a plugin steerer entry. */
export const SteeringItemSchema = z.union([SteererEntrySchema, SteeringEntrySchema]);

/** An adapter attached to a persona: a directory written by an Adapter's `save`. */
export const PersonaAdapterSchema = z.object({
  /** The plugin that owns the adapter kind, e.g. `lora` or `hirpf`. */
  plugin: z.string().regex(/^[a-z][a-z0-9_]*$/),
  path: z.string().min(1),
});

/** An adapter entry of a persona. */
export type PersonaAdapter = z.infer<typeof PersonaAdapterSchema>;

/** A persona file. */
export const PersonaSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "letters, digits, '.', '_' or '-'"),
  description: z.string().default(""),
  /** Base model directory or hub id. */
  model: z.string().min(1),
  adapters: z.array(PersonaAdapterSchema).default([]),
  identities: z.array(z.string()).default([]),
  steering: z.array(SteeringItemSchema).default([]),
  system_prompt: z.string().default(""),
  first_message: z.string().optional(),
  /** Name substituted for `{{char}}`; defaults to `name`. */
  char_name: z.string().optional(),
  /** Name substituted for `{{user}}`. */
  user_name: z.string().default("User"),
  /** A plugin that produces replies instead of the plain engine (for example `macm`). */
  backend: z.object({ plugin: z.string(), options: z.record(z.string(), z.unknown()).default({}) })
    .optional(),
  /** Free-form provenance, e.g. the imported character card. */
  metadata: z.record(z.string(), z.unknown()).default({}),
});

/**
 * A persona as stored and served.
 *
 * @example
 * ```ts
 * import { PersonaSchema } from "./persona.ts";
 * const p = PersonaSchema.parse({ name: "ada", model: "./tiny", identities: ["EXT_high"] });
 * console.log(p.steering.length); // 0
 * ```
 */
export type Persona = z.infer<typeof PersonaSchema>;
