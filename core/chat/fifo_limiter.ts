/**
 * A fair concurrency limiter: at most `limit` holders at once, waiters served first in, first
 * out, an optional bound on the queue, and waits that an AbortSignal cancels.
 *
 * @module
 */

import { withCode } from "../errors.ts";

interface Waiter {
  grant: (release: () => void) => void;
  fail: (error: unknown) => void;
}

/** Options of {@link FifoLimiter}. */
export interface FifoLimiterOptions {
  /** Most holders at once (a whole number >= 1). */
  limit: number;
  /** Most waiters; one more is rejected with an `E_LIMIT` RangeError. Default unbounded. */
  maxQueue?: number;
}

/**
 * A FIFO semaphore.
 *
 * @example
 * ```ts
 * import { FifoLimiter } from "./fifo_limiter.ts";
 * const limiter = new FifoLimiter({ limit: 2, maxQueue: 10 });
 * const release = await limiter.acquire();
 * release();
 * console.log(await limiter.run(async () => "done while holding a slot"));
 * ```
 */
export class FifoLimiter {
  readonly limit: number;
  readonly maxQueue: number;
  #active = 0;
  #queue: Waiter[] = [];

  constructor(options: FifoLimiterOptions) {
    const { limit, maxQueue = Infinity } = options;
    if (!Number.isInteger(limit) || limit < 1) {
      throw withCode(new RangeError(`limit is ${limit}; pass a whole number >= 1`), "E_CONFIG");
    }
    if (maxQueue !== Infinity && (!Number.isInteger(maxQueue) || maxQueue < 0)) {
      throw withCode(
        new RangeError(`maxQueue is ${maxQueue}; pass a whole number >= 0 or Infinity`),
        "E_CONFIG",
      );
    }
    this.limit = limit;
    this.maxQueue = maxQueue;
  }

  /** Holders now. */
  get inFlight(): number {
    return this.#active;
  }

  /** Waiters now. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Waits for a slot and returns its release function (idempotent). Rejects with the signal's
   * reason when aborted while waiting, or with an `E_LIMIT` RangeError when the queue is full.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#active < this.limit && this.#queue.length === 0) {
      this.#active++;
      return Promise.resolve(this.#releaser());
    }
    if (this.#queue.length >= this.maxQueue) {
      return Promise.reject(withCode(
        new RangeError(
          `the queue is full (${this.#queue.length} waiting, ${this.#active} running, ` +
            `maxQueue ${this.maxQueue}); retry later or raise the limit`,
        ),
        "E_LIMIT",
      ));
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const at = this.#queue.indexOf(waiter);
        if (at >= 0) this.#queue.splice(at, 1);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(release);
        },
        fail: reject,
      };
      this.#queue.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Runs `fn` holding a slot. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  #releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.#queue.shift();
      // The slot passes straight to the next waiter, so a newcomer cannot overtake it.
      if (next) next.grant(this.#releaser());
      else this.#active--;
    };
  }
}
