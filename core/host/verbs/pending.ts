/**
 * Verbs whose issue has not landed yet. Each one documents its flags already and exits 2 with a
 * "not available yet" message naming the issue that brings it.
 *
 * @module
 */

import type { HostVerb } from "../verb.ts";

/** Builds a placeholder verb for a capability that has not landed. */
export function pendingVerb(
  name: string,
  description: string,
  pendingIssue: string,
  positionals: string[] = [],
): HostVerb {
  return { name, description, pendingIssue, positionals };
}
