/**
 * A small RFC 4180 CSV reader and writer (quoted fields may hold commas, quotes and newlines), for
 * the world plugin's rollout labelling.
 *
 * @module
 */

/**
 * Parses CSV text into rows of fields.
 *
 * @example
 * ```ts
 * import { parseCsv } from "./csv.ts";
 * console.log(parseCsv('a,b\n"x, ""y""",2\n')); // [["a", "b"], ['x, "y"', "2"]]
 * ```
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (quoted) throw new SyntaxError("CSV ends inside a quoted field");
  if (field !== "" || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function quote(field: string): string {
  return /[",\n\r]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

/**
 * Writes rows as CSV text (fields quoted only when needed, `\n` line ends).
 *
 * @example
 * ```ts
 * import { formatCsv } from "./csv.ts";
 * console.log(formatCsv([["a", "b,c"]])); // 'a,"b,c"\n'
 * ```
 */
export function formatCsv(rows: string[][]): string {
  return rows.map((r) => r.map(quote).join(",")).join("\n") + "\n";
}
