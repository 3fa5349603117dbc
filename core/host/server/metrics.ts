/**
 * Server metrics in the Prometheus text format: requests by route and status, tokens, a request
 * latency histogram, generation time of streams, queue depth, requests in flight, client aborts
 * and timeouts.
 *
 * @module
 */

/**
 * Latency bucket bounds in seconds.
 *
 * @example
 * ```ts
 * import { LATENCY_BUCKETS } from "./metrics.ts";
 * console.log(LATENCY_BUCKETS.at(-1)); // 120
 * ```
 */
export const LATENCY_BUCKETS = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  120,
];

class Histogram {
  readonly counts = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  sum = 0;
  count = 0;
  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= LATENCY_BUCKETS[i]) this.counts[i]++;
    }
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labels(obj: Record<string, string>): string {
  const parts = Object.entries(obj).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

/**
 * The metrics of one server.
 *
 * @example
 * ```ts
 * import { ServerMetrics } from "./metrics.ts";
 * const m = new ServerMetrics(() => ({ queued: 0, inFlight: 1 }));
 * m.request("POST", "/v1/chat/completions", 200, 0.12);
 * console.log(m.render());
 * ```
 */
export class ServerMetrics {
  #requests = new Map<string, number>();
  #latency = new Map<string, Histogram>();
  #stream = new Histogram();
  #tokens = { prompt: 0, completion: 0 };
  #aborts = 0;
  #timeouts = 0;
  #cuts = new Map<string, number>();
  #gauges: () => { queued: number; inFlight: number };

  constructor(gauges: () => { queued: number; inFlight: number }) {
    this.#gauges = gauges;
  }

  /** Records one finished request (time to response headers). */
  request(method: string, route: string, status: number, seconds: number): void {
    const key = JSON.stringify([method, route, String(status)]);
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    const lkey = JSON.stringify([method, route]);
    let h = this.#latency.get(lkey);
    if (!h) this.#latency.set(lkey, h = new Histogram());
    h.observe(seconds);
  }

  /** Records the full duration of a streamed generation. */
  streamDone(seconds: number): void {
    this.#stream.observe(seconds);
  }

  /** Adds generated and prompt tokens. */
  tokens(prompt: number, completion: number): void {
    this.#tokens.prompt += prompt;
    this.#tokens.completion += completion;
  }

  /** Counts a client that went away before its answer was complete. */
  clientAbort(): void {
    this.#aborts++;
  }

  /** Counts a request that ran past the time limit. */
  timeout(): void {
    this.#timeouts++;
  }

  /** Counts a connection the connection guard cut (timeout or cap). */
  connectionCut(why: string): void {
    this.#cuts.set(why, (this.#cuts.get(why) ?? 0) + 1);
  }

  /** Client aborts so far. */
  get clientAborts(): number {
    return this.#aborts;
  }

  /** The exposition text. */
  render(): string {
    const out: string[] = [];
    const head = (name: string, type: string, help: string) =>
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    head("dramatis_http_requests_total", "counter", "HTTP requests by method, route and status.");
    for (const [key, n] of this.#requests) {
      const [method, route, status] = JSON.parse(key);
      out.push(`dramatis_http_requests_total${labels({ method, route, status })} ${n}`);
    }
    head("dramatis_http_request_duration_seconds", "histogram", "Time to response headers.");
    for (const [key, h] of this.#latency) {
      const [method, route] = JSON.parse(key);
      this.#histogram(out, "dramatis_http_request_duration_seconds", h, { method, route });
    }
    head("dramatis_stream_duration_seconds", "histogram", "Duration of streamed generations.");
    this.#histogram(out, "dramatis_stream_duration_seconds", this.#stream, {});
    head("dramatis_tokens_total", "counter", "Tokens processed, by kind.");
    out.push(`dramatis_tokens_total{kind="prompt"} ${this.#tokens.prompt}`);
    out.push(`dramatis_tokens_total{kind="completion"} ${this.#tokens.completion}`);
    const g = this.#gauges();
    head("dramatis_queue_depth", "gauge", "Requests waiting for a generation slot.");
    out.push(`dramatis_queue_depth ${g.queued}`);
    head("dramatis_in_flight", "gauge", "Requests holding a generation slot.");
    out.push(`dramatis_in_flight ${g.inFlight}`);
    head("dramatis_client_aborts_total", "counter", "Requests whose client disconnected early.");
    out.push(`dramatis_client_aborts_total ${this.#aborts}`);
    head("dramatis_timeouts_total", "counter", "Requests that ran past the time limit.");
    out.push(`dramatis_timeouts_total ${this.#timeouts}`);
    head(
      "dramatis_connections_cut_total",
      "counter",
      "Connections cut by a connection limit, by reason.",
    );
    for (const [reason, n] of this.#cuts) {
      out.push(`dramatis_connections_cut_total${labels({ reason })} ${n}`);
    }
    return out.join("\n") + "\n";
  }

  #histogram(out: string[], name: string, h: Histogram, base: Record<string, string>): void {
    LATENCY_BUCKETS.forEach((le, i) =>
      out.push(`${name}_bucket${labels({ ...base, le: String(le) })} ${h.counts[i]}`)
    );
    out.push(`${name}_bucket${labels({ ...base, le: "+Inf" })} ${h.count}`);
    out.push(`${name}_sum${labels(base)} ${h.sum}`);
    out.push(`${name}_count${labels(base)} ${h.count}`);
  }
}
