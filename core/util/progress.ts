/**
 * Human progress on stderr: a one-line bar redrawn in place on a TTY, plain periodic lines
 * otherwise, nothing when silenced (machine output with `--json` goes to stdout only).
 *
 * @module
 */

/** Options of a progress bar. */
export interface ProgressOptions {
  /** What is being counted, e.g. "steps" or "MB". */
  unit?: string;
  /** Suppress all output. */
  silent?: boolean;
  /** Minimum milliseconds between redraws. */
  intervalMs?: number;
  /** Where lines go (default stderr; a TTY gets in-place redraws). */
  sink?: (text: string) => void;
}

const encoder = new TextEncoder();

/**
 * A progress bar with rate and ETA.
 *
 * @example
 * ```ts
 * import { Progress } from "./progress.ts";
 * const p = new Progress("download", 100, { unit: "MB" });
 * p.update(50, "loss 1.23");
 * p.done();
 * ```
 */
export class Progress {
  #label: string;
  #total: number;
  #opts: Required<Omit<ProgressOptions, "sink">>;
  #sink: ((text: string) => void) | undefined;
  #start = performance.now();
  #last = 0;
  #current = 0;
  #tty: boolean;

  constructor(label: string, total: number, options: ProgressOptions = {}) {
    this.#label = label;
    this.#total = total;
    const { sink, ...opts } = options;
    this.#opts = { unit: "", silent: false, intervalMs: 200, ...opts };
    this.#sink = sink;
    this.#tty = !sink && Deno.stderr.isTerminal();
    if (!this.#tty && this.#opts.intervalMs < 2000) this.#opts.intervalMs = 2000;
  }

  /** Seconds since the bar started. */
  get elapsed(): number {
    return (performance.now() - this.#start) / 1000;
  }

  /** Estimated seconds left, from the average rate so far. */
  get eta(): number {
    if (this.#current <= 0) return NaN;
    return this.elapsed * (this.#total - this.#current) / this.#current;
  }

  /** Sets the total once it is known (0 = unknown, drawn as "?"). */
  set total(total: number) {
    this.#total = total;
  }

  /** Sets the current count and redraws if enough time passed. */
  update(current: number, detail = ""): void {
    this.#current = current;
    const now = performance.now();
    if (now - this.#last < this.#opts.intervalMs && !(this.#total > 0 && current >= this.#total)) {
      return;
    }
    this.#last = now;
    this.#draw(detail);
  }

  /** Draws the final state and ends the line. */
  done(detail = ""): void {
    this.#draw(detail);
    if (this.#tty && !this.#opts.silent) Deno.stderr.writeSync(encoder.encode("\n"));
  }

  #draw(detail: string): void {
    if (this.#opts.silent) return;
    const frac = this.#total > 0 ? Math.min(1, this.#current / this.#total) : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    const eta = this.#total > 0 && Number.isFinite(this.eta)
      ? ` eta ${formatSeconds(this.eta)}`
      : "";
    const unit = this.#opts.unit ? ` ${this.#opts.unit}` : "";
    const total = this.#total > 0 ? String(this.#total) : "?";
    const line = `${this.#label} [${bar}] ${this.#current}/${total}${unit}${eta}${
      detail ? "  " + detail : ""
    }`;
    if (this.#sink) this.#sink(line + "\n");
    else if (this.#tty) Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${line}`));
    else Deno.stderr.writeSync(encoder.encode(line + "\n"));
  }
}

/** Formats seconds as `1h02m`, `3m05s` or `12s`. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  s = Math.max(0, Math.round(s));
  if (s >= 3600) {
    return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
  }
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}
