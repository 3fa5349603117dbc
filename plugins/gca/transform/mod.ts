/**
 * Book files → ShareGPT training samples and GCA test records.
 *
 * @module
 */

export * from "./sharegpt.ts";
export * from "./split.ts";
export * from "./templates.ts";
export * from "./test_records.ts";
