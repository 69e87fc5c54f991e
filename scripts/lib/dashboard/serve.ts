// The live page of `dashboard.ts --serve`: a local HTTP server (node:http, so Bun, Deno and Node
// alike) on 127.0.0.1 only, serving the HTML dashboard plus a small script that swaps in each
// new render pushed over server-sent events. It re-renders when the journal, report or
// experiment file changes (watch.ts: fs.watch plus a 250 ms poll) and waits for a journal that
// does not exist yet. It writes no file, takes no input from the page, and never prints.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { existsSync } from "node:fs";
import { CliError, EXIT, isCliError } from "../cli/errors.ts";
import { kitCommand } from "../cli/kit.ts";
import { displayPath } from "../files/paths.ts";
import { watchFiles } from "../files/watch.ts";
import { buildDashboard } from "./files.ts";
import { htmlPage, htmlSection, htmlTitle, renderHtmlBody } from "./html.ts";
import { DASHBOARD_TITLE } from "./prose.ts";
import type { DashboardTarget } from "./target.ts";

export const DEFAULT_SERVE_PORT = 8765;
/** Loopback only: the page shows the experiment's code changes and is not for the network. */
export const SERVE_HOST = "127.0.0.1";
const ALLOWED_HOST_NAMES = new Set(["127.0.0.1", "localhost", "[::1]"]);
const SERVE_POLL_MS = 250; // size/mtime poll behind fs.watch: a new line shows within ~0.5 s even without fs.watch
const SERVE_DEBOUNCE_MS = 100; // iterate writes the journal, then the dashboard and chart
const HEARTBEAT_MS = 10_000; // a comment line to every client, so idle connections stay open and dead ones are noticed
const RECONNECT_MS = 1_000; // EventSource's retry after the server went away

/** One render of the page: what the browser's script swaps in. */
export type LivePage = { title: string; body: string };

export type ServeOptions = {
  target: DashboardTarget;
  /**
   * The target as it stands now, asked again at every change: when the experiment moves to
   * another round (next-round), the page follows it. Absent: the page stays on `target`.
   */
  retarget?: () => DashboardTarget;
  /** 0: any free port. */
  port: number;
  /** Only the last N iterations in the table (null: all). */
  last: number | null;
  cwd: string;
  /** A render that failed (the page keeps its previous render). */
  onProblem?: (message: string) => void;
};

export type DashboardServer = {
  url: string;
  port: number;
  /** How many pages are connected for updates now. */
  clients: () => number;
  close: () => Promise<void>;
};

/** Listen on 127.0.0.1:port and keep the page current until close(); throws E_PORT_IN_USE when it cannot listen. */
export async function startDashboardServer(options: ServeOptions): Promise<DashboardServer> {
  let target = options.target;
  const render = () => livePage(target, { last: options.last, cwd: options.cwd });
  let page = render();
  let version = 1;
  const clients = new Set<ServerResponse>();

  const send = (response: ServerResponse, text: string) => {
    if (response.destroyed || response.writableEnded) return clients.delete(response);
    try {
      response.write(text);
    } catch {
      clients.delete(response);
    }
  };
  const renderEvent = () => `event: render\ndata: ${JSON.stringify({ version, ...page })}\n\n`;

  const refresh = () => {
    followRound();
    let next: LivePage;
    try {
      next = render();
    } catch (error) {
      options.onProblem?.(`re-render failed, still serving the last page: ${(error as Error).message}`);
      return;
    }
    if (next.body === page.body && next.title === page.title) return;
    page = next;
    version += 1;
    const event = renderEvent();
    for (const client of clients) send(client, event);
  };

  const server = createServer((request, response) => {
    const problem = refusal(request);
    if (problem) {
      response.writeHead(problem.status, { "Content-Type": "text/plain; charset=utf-8" });
      response.end(`${problem.message}\n`);
      return;
    }
    const path = (request.url ?? "/").split("?")[0];
    if (path === "/" || path === "/index.html") {
      const html = htmlPage({ title: page.title, body: page.body, script: liveScript(version) });
      response.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
      response.end(request.method === "HEAD" ? undefined : html);
      return;
    }
    if (path === "/events") {
      response.writeHead(200, {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-store",
        Connection: "keep-alive",
      });
      clients.add(response);
      const forget = () => clients.delete(response);
      request.on("close", forget);
      response.on("close", forget);
      response.on("error", forget);
      // The current render at once: a page loaded before the last change catches up on connecting.
      send(response, `retry: ${RECONNECT_MS}\n\n${renderEvent()}`);
      return;
    }
    response.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
    response.end("Not found: the dashboard is at /\n");
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => reject(listenError(error, options.port)));
    server.listen(options.port, SERVE_HOST, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;

  const watch = () =>
    watchFiles(
      [target.journalPath, target.reportPath, ...(target.experimentPath ? [target.experimentPath] : [])],
      refresh,
      { pollMs: SERVE_POLL_MS, debounceMs: SERVE_DEBOUNCE_MS },
    );
  let stopWatching = watch();
  // Another round's files are watched from the change that moved the experiment to it.
  function followRound(): void {
    if (!options.retarget) return;
    let now: DashboardTarget;
    try {
      now = options.retarget();
    } catch (error) {
      options.onProblem?.(
        `could not read the experiment again, still serving round ${target.round}: ${(error as Error).message}`,
      );
      return;
    }
    if (now.journalPath === target.journalPath && now.round === target.round) return;
    target = now;
    stopWatching();
    stopWatching = watch();
  }
  const heartbeat = setInterval(() => {
    for (const client of clients) send(client, ": keep-alive\n\n");
  }, HEARTBEAT_MS);

  return {
    url: `http://${SERVE_HOST}:${port}/`,
    port,
    clients: () => clients.size,
    close: () => {
      stopWatching();
      clearInterval(heartbeat);
      for (const client of clients) client.end();
      clients.clear();
      return new Promise((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    },
  };
}

/** The page for the target as it stands: the dashboard, or a note while there is no journal worth rendering yet. */
export function livePage(target: DashboardTarget, options: { last: number | null; cwd: string }): LivePage {
  const shown = displayPath(target.journalPath, options.cwd);
  const waiting = (why: string): LivePage => ({
    title: DASHBOARD_TITLE,
    body: htmlSection({ heading: DASHBOARD_TITLE, note: `${why} This page fills in by itself when it does.` }),
  });
  if (!existsSync(target.journalPath)) {
    return waiting(`Waiting for the journal "${shown}": run the baseline (${kitCommand("baseline")}) to start it.`);
  }
  try {
    const rendered = buildDashboard({
      journalPath: target.journalPath,
      dashboardPath: target.dashboardPath,
      chartPath: target.chartPath,
      reportPath: target.reportPath,
      experiment: target.experiment,
      round: target.round,
    });
    return {
      title: htmlTitle(rendered.summary),
      body: renderHtmlBody(rendered.summary, {
        svg: rendered.svg,
        report: rendered.report,
        preservedReport: rendered.preservedReport,
        last: options.last,
      }),
    };
  } catch (error) {
    // A journal being created (empty, or only a torn first line) is not an error yet.
    if (isCliError(error) && error.code === "E_NOT_A_JOURNAL") {
      return waiting(`Waiting for "${shown}": ${error.message}`);
    }
    throw error;
  }
}

/**
 * Only GET and HEAD, and only for a Host naming this machine: a web page elsewhere that points a
 * name of its own at 127.0.0.1 (DNS rebinding) gets nothing.
 */
function refusal(request: IncomingMessage): { status: number; message: string } | null {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return { status: 405, message: "Only GET: the live dashboard is read-only." };
  }
  const host = (request.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
  if (!ALLOWED_HOST_NAMES.has(host)) {
    return { status: 403, message: `Host "${host}" refused: open the dashboard at http://${SERVE_HOST}:PORT/.` };
  }
  return null;
}

function listenError(error: NodeJS.ErrnoException, port: number): Error {
  const retry = kitCommand("dashboard", {});
  if (error.code === "EADDRINUSE") {
    return new CliError(
      `Port ${port} on ${SERVE_HOST} is in use (another dashboard?). Pick another: ${retry} --serve --port 0`,
      "E_PORT_IN_USE",
      EXIT.USAGE,
    );
  }
  if (error.code === "EACCES") {
    return new CliError(
      `Not allowed to listen on port ${port} (ports below 1024 need root). Pick another: ${retry} --serve --port 0`,
      "E_PORT_IN_USE",
      EXIT.USAGE,
    );
  }
  return error;
}

/**
 * The page's script: on each "render" event newer than what it shows, swap in the new dashboard
 * and title, keeping the scroll position. The badge says whether updates are flowing.
 */
function liveScript(version: number): string {
  return `<div id="ark-live" style="position:fixed;top:8px;right:12px;font:12px sans-serif;color:#555;background:#fff;border:1px solid #ddd;border-radius:4px;padding:2px 8px">live</div>
<script>
(() => {
  let version = ${version};
  document.documentElement.dataset.arkVersion = String(version);
  const badge = document.getElementById("ark-live");
  const events = new EventSource("/events");
  events.addEventListener("render", (event) => {
    const page = JSON.parse(event.data);
    badge.textContent = "live";
    if (page.version === version) return;
    const holder = document.createElement("div");
    holder.innerHTML = page.body;
    const current = document.querySelector(".ark-dashboard");
    if (current && holder.firstElementChild) current.replaceWith(holder.firstElementChild);
    document.title = page.title;
    version = page.version;
    document.documentElement.dataset.arkVersion = String(version);
    badge.textContent = "live · updated " + new Date().toLocaleTimeString();
  });
  events.onerror = () => { badge.textContent = "reconnecting…"; };
})();
</script>`;
}
