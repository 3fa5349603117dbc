/**
 * The steering resolver over vector files lives in core (core/steering) and every local model the
 * model hub builds uses it; this module keeps the plugin's own import path.
 *
 * @module
 */

export * from "../../core/steering/steering_resolver.ts";
