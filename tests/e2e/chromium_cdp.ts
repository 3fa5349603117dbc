/**
 * Test helper: drives headless Chromium over the DevTools protocol (a WebSocket, no extra
 * package) — open a page, click elements with real mouse events, type text, and collect files
 * the page downloads.
 *
 * @module
 */

import { CHROMIUM } from "./screenshot.ts";

/** A page in a headless Chromium. */
export interface CdpPage {
  /** Clicks the centre of the element matching `selector` with mouse events. */
  click(selector: string): Promise<void>;
  /** Focuses the element and types `text` as key events. */
  type(selector: string, text: string): Promise<void>;
  /** Evaluates an expression in the page and returns its JSON value. */
  evaluate<T>(expression: string): Promise<T>;
  /** Waits for the next finished download and returns its path. */
  nextDownload(timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts Chromium headless on `url` with downloads going to `downloadDir`.
 *
 * @example
 * ```ts ignore
 * const page = await openPage("file:///tmp/form.html", "/tmp/downloads");
 * await page.click("#save");
 * console.log(await page.nextDownload());
 * await page.close();
 * ```
 */
export async function openPage(url: string, downloadDir: string): Promise<CdpPage> {
  const profile = await Deno.makeTempDir({ prefix: "cdp_profile_" });
  const child = new Deno.Command(CHROMIUM, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--remote-debugging-port=0",
      `--user-data-dir=${profile}`,
      "about:blank",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // Chromium prints "DevTools listening on ws://…" on stderr once it is ready.
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  let endpoint: string | undefined;
  const deadline = Date.now() + 30_000;
  while (!endpoint) {
    if (Date.now() > deadline) throw new Error(`Chromium did not start: ${buffered.slice(-500)}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`Chromium exited: ${buffered.slice(-500)}`);
    buffered += value;
    endpoint = buffered.match(/DevTools listening on (ws:\/\/\S+)/)?.[1];
  }
  // Keep draining stderr so Chromium never blocks on a full pipe.
  (async () => {
    try {
      while (!(await reader.read()).done) { /* drain */ }
    } catch { /* closed */ }
  })();

  const ws = new WebSocket(endpoint);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`cannot connect to ${endpoint}`));
  });
  let nextId = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const listeners: ((method: string, params: Record<string, unknown>) => void)[] = [];
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data as string);
    if (msg.id !== undefined) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(`${msg.error.message} (${msg.error.code})`));
      else p?.resolve(msg.result);
    } else for (const l of listeners) l(msg.method, msg.params ?? {});
  };
  const send = <T = Record<string, unknown>>(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });

  const downloads: string[] = [];
  const waiting: ((path: string) => void)[] = [];
  const names = new Map<string, string>();
  listeners.push((method, params) => {
    if (method === "Browser.downloadWillBegin") {
      names.set(params.guid as string, params.suggestedFilename as string);
    } else if (method === "Browser.downloadProgress" && params.state === "completed") {
      const path = `${downloadDir}/${names.get(params.guid as string) ?? params.guid}`;
      const w = waiting.shift();
      if (w) w(path);
      else downloads.push(path);
    }
  });
  await send("Browser.setDownloadBehavior", {
    behavior: "allow",
    downloadPath: downloadDir,
    eventsEnabled: true,
  });
  const { targetId } = await send<{ targetId: string }>("Target.createTarget", {
    url: "about:blank",
  });
  const { sessionId } = await send<{ sessionId: string }>("Target.attachToTarget", {
    targetId,
    flatten: true,
  });
  await send("Page.enable", {}, sessionId);
  const loaded = new Promise<void>((resolve) =>
    listeners.push((m) => m === "Page.loadEventFired" && resolve())
  );
  await send("Page.navigate", { url }, sessionId);
  await loaded;

  const evaluate = async <T>(expression: string): Promise<T> => {
    const r = await send<{ result: { value: T }; exceptionDetails?: { text: string } }>(
      "Runtime.evaluate",
      { expression, returnByValue: true, awaitPromise: true },
      sessionId,
    );
    if (r.exceptionDetails) throw new Error(`page error: ${r.exceptionDetails.text}`);
    return r.result.value;
  };
  const centre = async (selector: string) => {
    const box = await evaluate<{ x: number; y: number } | null>(`(() => {
      const el = document.querySelector(${JSON.stringify(selector)});
      if (!el) return null;
      el.scrollIntoView({ block: "center" });
      const r = el.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    })()`);
    if (!box) throw new Error(`no element matches ${selector}`);
    return box;
  };
  const click = async (selector: string) => {
    const { x, y } = await centre(selector);
    for (const type of ["mouseMoved", "mousePressed", "mouseReleased"]) {
      await send("Input.dispatchMouseEvent", {
        type,
        x,
        y,
        button: "left",
        clickCount: type === "mouseMoved" ? 0 : 1,
      }, sessionId);
    }
  };
  return {
    evaluate,
    click,
    async type(selector, text) {
      await click(selector);
      await send("Input.insertText", { text }, sessionId);
    },
    nextDownload(timeoutMs = 15_000) {
      const ready = downloads.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no download finished")), timeoutMs);
        waiting.push((p) => {
          clearTimeout(timer);
          resolve(p);
        });
      });
    },
    async close() {
      try {
        await send("Browser.close");
      } catch { /* already gone */ }
      ws.close();
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await child.status;
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}
