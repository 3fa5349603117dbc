/**
 * RFC 4180 CSV for annotation sheets: fields quoted when they hold a comma, quote or line break.
 *
 * @module
 */

/**
 * Writes rows as CSV text (CRLF line ends, as spreadsheets expect).
 *
 * @example
 * ```ts
 * import { toCsv } from "./csv.ts";
 * toCsv([["a", "b,c"]]); // 'a,"b,c"\r\n'
 * ```
 */
export function toCsv(rows: readonly (readonly string[])[]): string {
  const field = (s: string) => /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  return rows.map((r) => r.map(field).join(",")).join("\r\n") + "\r\n";
}

/**
 * Parses CSV text into rows (quoted fields, doubled quotes, CRLF or LF; a trailing empty line is
 * dropped). A byte-order mark at the start is ignored.
 *
 * @example
 * ```ts
 * import { fromCsv } from "./csv.ts";
 * fromCsv('a,"b,""c"""\n'); // [["a", 'b,"c"']]
 * ```
 */
export function fromCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cur = "";
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cur += '"';
          i++;
        } else quoted = false;
      } else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(cur);
      cur = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(cur);
      rows.push(row);
      row = [];
      cur = "";
    } else cur += ch;
  }
  if (cur !== "" || row.length) {
    row.push(cur);
    rows.push(row);
  }
  return rows;
}
