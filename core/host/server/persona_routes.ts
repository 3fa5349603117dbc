/**
 * Persona management under `/v1/personas` (behind the admin key): list, read, create, replace,
 * delete, and import a SillyTavern character card (JSON or PNG body).
 *
 * @module
 */

import type { Hono } from "hono";
import type { Persona } from "../../contracts/persona.ts";
import { cardToPersona, MAX_CARD_DEPTH, readCharacterCard } from "../../persona/character_card.ts";
import {
  assertPersonaName,
  MAX_PERSONA_BYTES,
  parsePersona,
  type PersonaStore,
} from "../../persona/persona_store.ts";
import { valueDepth } from "../../util/json_depth.ts";
import { readBodyLimited, readJsonLimited } from "./body.ts";
import { HttpError, toHttpError } from "./http_error.ts";

/** Options of {@link mountPersonaRoutes}. */
export interface PersonaRoutesOptions {
  store: PersonaStore;
  /** Base model for imported cards that name none (`?model=` overrides). */
  defaultModel?: string;
  maxBodyBytes: number;
  /** Called after any change, so resolvers can drop cached backends. */
  onChange?: (name: string) => void;
  /**
   * Checks a persona before it is stored (the server checks that its model is the one served and
   * that its vectors and adapters are ids in the configured directories); throw to refuse it.
   */
  validate?: (persona: Persona) => void | Promise<void>;
}

function asBadRequest(error: unknown): never {
  const e = toHttpError(error);
  const input = error instanceof TypeError || error instanceof RangeError ||
    error instanceof SyntaxError;
  throw e.status === 500 && !input ? e : new HttpError(400, (error as Error).message ?? e.message, {
    param: e.param,
    code: "invalid_persona",
  });
}

function checkName(name: string): void {
  try {
    assertPersonaName(name);
  } catch (error) {
    asBadRequest(error);
  }
}

function validate(value: unknown, source: string): Persona {
  try {
    return parsePersona(value, source);
  } catch (error) {
    return asBadRequest(error);
  }
}

const notFound = (name: string) =>
  new HttpError(404, `no persona named '${name}'`, { param: "name", code: "persona_not_found" });

/**
 * Adds the persona routes to a Hono app. Authentication is the caller's middleware.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { mountPersonaRoutes } from "./persona_routes.ts";
 * import { PersonaStore } from "../../persona/persona_store.ts";
 * const app = new Hono();
 * mountPersonaRoutes(app, { store: new PersonaStore("./personas"), maxBodyBytes: 1 << 20 });
 * ```
 */
export function mountPersonaRoutes(app: Hono, options: PersonaRoutesOptions): void {
  const { store } = options;
  const changed = (name: string) => options.onChange?.(name);
  const checked = async (persona: Persona) => {
    try {
      await options.validate?.(persona);
    } catch (error) {
      asBadRequest(error);
    }
    try {
      // The stored form is the normalized one; refuse what would not fit in a persona file.
      parsePersona(JSON.parse(JSON.stringify(persona)), "persona");
      if (valueDepth(persona, MAX_CARD_DEPTH + 4) > MAX_CARD_DEPTH + 4) {
        throw new RangeError(`the persona nests deeper than ${MAX_CARD_DEPTH + 4} levels`);
      }
      if (JSON.stringify(persona, null, 2).length > MAX_PERSONA_BYTES) {
        throw new RangeError(`the persona is over ${MAX_PERSONA_BYTES} bytes as JSON; shorten it`);
      }
    } catch (error) {
      asBadRequest(error);
    }
  };

  app.get("/v1/personas", async (c) => c.json({ object: "list", data: await store.list() }));

  app.get("/v1/personas/:name", async (c) => {
    const name = c.req.param("name");
    checkName(name);
    const persona = await store.get(name);
    if (!persona) throw notFound(name);
    return c.json(persona);
  });

  app.post("/v1/personas", async (c) => {
    const persona = validate(
      await readJsonLimited(c.req.raw, options.maxBodyBytes),
      "request body",
    );
    if (await store.has(persona.name)) {
      throw new HttpError(
        409,
        `a persona named '${persona.name}' exists; PUT /v1/personas/${persona.name} replaces it`,
        {
          param: "name",
          code: "persona_exists",
        },
      );
    }
    await checked(persona);
    await store.put(persona);
    changed(persona.name);
    return c.json(persona, 201);
  });

  app.put("/v1/personas/:name", async (c) => {
    const name = c.req.param("name");
    checkName(name);
    const raw = await readJsonLimited(c.req.raw, options.maxBodyBytes);
    const value = raw && typeof raw === "object" && !Array.isArray(raw) ? { name, ...raw } : raw;
    const persona = validate(value, "request body");
    if (persona.name !== name) {
      throw new HttpError(
        400,
        `the body names '${persona.name}' but the path names '${name}'; make them agree`,
        {
          param: "name",
          code: "invalid_persona",
        },
      );
    }
    await checked(persona);
    await store.put(persona);
    changed(name);
    return c.json(persona);
  });

  app.delete("/v1/personas/:name", async (c) => {
    const name = c.req.param("name");
    checkName(name);
    if (!(await store.delete(name))) throw notFound(name);
    changed(name);
    return c.json({ id: name, object: "persona", deleted: true });
  });

  app.post("/v1/personas/import", async (c) => {
    const bytes = await readBodyLimited(c.req.raw, options.maxBodyBytes);
    const model = c.req.query("model") ?? options.defaultModel;
    if (!model) {
      throw new HttpError(400, "no base model: pass ?model=<dir|id> (the server has no default)", {
        param: "model",
        code: "invalid_value",
      });
    }
    let persona: Persona;
    try {
      const name = c.req.query("name");
      if (name !== undefined) assertPersonaName(name);
      persona = cardToPersona(readCharacterCard(bytes, "uploaded card"), {
        model,
        name,
        userName: c.req.query("user_name"),
      });
    } catch (error) {
      return asBadRequest(error);
    }
    if (c.req.query("overwrite") !== "true" && (await store.has(persona.name))) {
      throw new HttpError(
        409,
        `a persona named '${persona.name}' exists; add ?overwrite=true or ?name=<other>`,
        {
          param: "name",
          code: "persona_exists",
        },
      );
    }
    await checked(persona);
    await store.put(persona);
    changed(persona.name);
    return c.json(persona, 201);
  });
}
