// dashboard.ts --serve on real experiments: one page kept open in headless Chromium (Debian's
// chromium, driven over the DevTools protocol) shows an iteration that a real iterate step
// appends within 2 s of its journal line, without reloading; many event streams, one dropped,
// all still get updates; a journal that does not exist yet and a torn last line are waited out
// (under Deno); the page follows the experiment to its next round unless --round pins it; the
// experiment is found through the worktree pointer; wrong flags and a taken
// port get one line and exit 2. With AUTORESEARCH_REQUIRE_CHROMIUM=1 (CI) no Chromium is a failure.
import { describe, expect, onTestFinished, test } from "bun:test";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { join } from "node:path";
import {
  BUN,
  DENO,
  KIT_ROOT,
  removeFolder,
  runScript,
  type Runtime,
  setLever,
  temporaryFolder,
  waitFor,
} from "./helpers.ts";
import { baselined, pythonExperiment } from "./experiment-fixture.ts";

const BROWSERS = ["chromium", "chromium-browser", "google-chrome"];
const BROWSER = BROWSERS.find((name) => spawnSync(name, ["--version"], { stdio: "ignore" }).status === 0) ?? null;
const REQUIRE_BROWSER = process.env.AUTORESEARCH_REQUIRE_CHROMIUM === "1";
const LIVE_DEADLINE_MS = 2_000; // the promise: a new journal line shows within 2 s

type Served = { url: string; child: ChildProcess; stderr: () => string; stop: () => Promise<number | null> };

/** Start `dashboard.ts --serve --port 0` and wait for the URL it prints on stdout. */
async function serve(cwd: string, args: string[] = [], runtime: Runtime = "bun"): Promise<Served> {
  const script = join(KIT_ROOT, "scripts/dashboard.ts");
  const [command, prefix] = runtime === "bun" ? [BUN, [] as string[]] : [DENO, ["run", "-A", "-q"]];
  const child = spawn(command, [...prefix, script, "--serve", "--port", "0", ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1", CI: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let alive = true;
  void exited.then(() => (alive = false));
  try {
    await waitFor("the served URL", () => stdout.includes("\n") || !alive, 30_000);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  if (!alive) throw new Error(`dashboard --serve exited early: ${stderr}`);
  const first = stdout.split("\n")[0];
  const url = first.startsWith("{") ? JSON.parse(first).url : first;
  const stop = async () => {
    if (alive) child.kill("SIGTERM");
    return await exited;
  };
  onTestFinished(() => void stop()); // a failed test still stops the server
  return { url, child, stderr: () => stderr, stop };
}

type RenderEvent = { version: number; title: string; body: string };

/** An EventSource-like reader of /events over fetch: every "render" event, in order. */
function openEvents(url: string) {
  const controller = new AbortController();
  const events: RenderEvent[] = [];
  let closed = false;
  const done = (async () => {
    try {
      const response = await fetch(new URL("events", url), { signal: controller.signal });
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").find((line) => line.startsWith("data: "));
          if (block.startsWith("event: render") && data) events.push(JSON.parse(data.slice(6)));
        }
      }
    } catch {
      // aborted, or the server went away
    }
    closed = true;
  })();
  return {
    events,
    closed: () => closed,
    abort: () => controller.abort(),
    done,
    async waitFor(what: string, predicate: (event: RenderEvent) => boolean, timeoutMs = 10_000) {
      await waitFor(what, () => events.some(predicate), timeoutMs);
      return events.find(predicate)!;
    },
  };
}

/** One page open in headless Chromium, read through the DevTools protocol's Runtime.evaluate. */
async function openInChromium(url: string) {
  // Its profile and its own temporary files in one folder, removed once it has exited.
  const profile = mkdtempSync(join(tmpdir(), "ark-chromium-"));
  const browser = spawn(BROWSER!, [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    `--user-data-dir=${profile}`,
    url,
  ], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, TMPDIR: profile }, detached: true });
  let stderr = "";
  browser.stderr!.on("data", (chunk) => (stderr += chunk));
  const closed = new Promise<void>((resolve) => browser.on("exit", () => resolve()));
  // Chromium's helper processes (renderer, zygote, utilities) share its process group: all of them go,
  // and the profile is removed once none can write into it any more.
  const close = async () => {
    try {
      process.kill(-browser.pid!, "SIGKILL");
    } catch { /* gone */ }
    await closed;
    for (let attempt = 0; attempt < 50 && existsSync(profile); attempt++) {
      removeFolder(profile);
      if (existsSync(profile)) await Bun.sleep(100);
    }
  };
  onTestFinished(close);
  await waitFor("Chromium's DevTools endpoint", () => /DevTools listening on ws:\/\/[^\s]+/.test(stderr), 30_000);
  const devtoolsPort = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(stderr)![1];
  let pageSocket = "";
  for (let attempt = 0; attempt < 100 && !pageSocket; attempt++) {
    const targets = await (await fetch(`http://127.0.0.1:${devtoolsPort}/json/list`)).json() as {
      type: string;
      url: string;
      webSocketDebuggerUrl: string;
    }[];
    pageSocket = targets.find((target) => target.type === "page" && target.url.startsWith(url))
      ?.webSocketDebuggerUrl ?? "";
    if (!pageSocket) await Bun.sleep(100);
  }
  if (!pageSocket) throw new Error(`Chromium opened no page for ${url}: ${stderr.slice(-500)}`);
  const socket = new WebSocket(pageSocket);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  const pending = new Map<number, (value: unknown) => void>();
  socket.onmessage = (message) => {
    const reply = JSON.parse(String(message.data));
    pending.get(reply.id)?.(reply.result?.result?.value);
    pending.delete(reply.id);
  };
  let nextId = 1;
  const evaluate = <T>(expression: string): Promise<T> => {
    const id = nextId++;
    socket.send(JSON.stringify({ id, method: "Runtime.evaluate", params: { expression, returnByValue: true } }));
    return new Promise((resolve) => pending.set(id, resolve as (value: unknown) => void));
  };
  return { evaluate, close };
}

/** Wait until `expression` is true in the page. */
async function waitForPage(page: { evaluate: <T>(expression: string) => Promise<T> }, expression: string) {
  const deadline = Date.now() + 30_000;
  while (!(await page.evaluate<boolean>(expression))) {
    if (Date.now() > deadline) throw new Error(`the page never had ${expression}`);
    await Bun.sleep(50);
  }
}

/** The time a line with `text` is in the journal, polled every 5 ms. */
async function whenJournalHas(path: string, text: string, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let size = -1;
  while (Date.now() < deadline) {
    const now = statSync(path).size;
    if (now !== size) {
      size = now;
      if (readFileSync(path, "utf8").includes(text)) return performance.now();
    }
    await Bun.sleep(5);
  }
  throw new Error(`no journal line with "${text}"`);
}

describe("dashboard --serve", () => {
  test.skipIf(!BROWSER && !REQUIRE_BROWSER)(
    "the page open in headless Chromium shows an iteration a real iterate step appends within 2 s of its journal line",
    async () => {
      if (!BROWSER) throw new Error(`No Chromium (tried ${BROWSERS.join(", ")}): apt-get install -y chromium`);
      const root = baselined();
      const served = await serve(root);
      expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await openInChromium(served.url);
      await waitForPage(page, "document.querySelector('.ark-dashboard h2') !== null");
      expect(await page.evaluate<string>("document.title")).toBe("Autoresearch Dashboard: score");
      // A mark on the window: a reload would lose it, a patched page keeps it.
      await page.evaluate("window.arkTestMark = 'same page'");
      const description = "raise the weight to 2 while the page watches";
      expect(await page.evaluate<boolean>(`document.body.innerText.includes(${JSON.stringify(description)})`)).toBe(
        false,
      );

      setLever(root, "WEIGHT", "2.0");
      const iterate = spawn(BUN, [join(KIT_ROOT, "scripts/iterate.ts"), "-m", description], {
        cwd: root,
        env: { ...process.env, NO_COLOR: "1", CI: "true" },
        stdio: "ignore",
      });
      const iterateExit = new Promise<number | null>((resolve) => iterate.on("exit", resolve));
      const lineWritten = whenJournalHas(join(root, "autoresearch.jsonl"), description);
      const pageShows = (async () => {
        for (;;) {
          const shown = await page.evaluate<boolean>(
            `document.body.innerText.includes(${JSON.stringify(description)})`,
          );
          if (shown) return performance.now();
          await Bun.sleep(20);
        }
      })();
      const lineAt = await lineWritten;
      const shownAt = await Promise.race([pageShows, Bun.sleep(LIVE_DEADLINE_MS + 3_000).then(() => Infinity)]);
      const latency = Math.round(shownAt - lineAt);
      console.error(`live page: the new iteration showed ${latency} ms after its journal line`);
      expect(latency).toBeLessThan(LIVE_DEADLINE_MS);
      expect(await iterateExit).toBe(0);
      expect(await page.evaluate<string>("window.arkTestMark")).toBe("same page");
      expect(await page.evaluate<number>("document.querySelectorAll('.ark-dashboard tr.keep').length")).toBe(1);
      expect(Number(await page.evaluate<string>("document.documentElement.dataset.arkVersion"))).toBeGreaterThan(1);
      expect(await served.stop()).toBe(130);
      expect(served.stderr()).not.toContain("warning");
    },
    120_000,
  );

  test.skipIf(!BROWSER && !REQUIRE_BROWSER)(
    "the same page shows each iteration of a running loop within 2 s of its journal line",
    async () => {
      if (!BROWSER) throw new Error(`No Chromium (tried ${BROWSERS.join(", ")}): apt-get install -y chromium`);
      const root = baselined();
      const served = await serve(root);
      const page = await openInChromium(served.url);
      await waitForPage(page, "document.querySelector('.ark-dashboard h2') !== null");
      await page.evaluate("window.arkTestMark = 'same page'");
      const iterations = 3;
      const loop = spawn(BUN, [
        join(KIT_ROOT, "scripts/iterate.ts"),
        "--loop",
        "--agent",
        `${BUN} ${join(KIT_ROOT, "examples/agents/tune-levers.ts")}`,
        "--iterations",
        String(iterations),
      ], { cwd: root, env: { ...process.env, NO_COLOR: "1", CI: "true" }, stdio: "ignore" });
      const loopExit = new Promise<number | null>((resolve) => loop.on("exit", resolve));
      const lineTimes = new Map<number, number>();
      const pageTimes = new Map<number, number>();
      const journalPath = join(root, "autoresearch.jsonl");
      const deadline = performance.now() + 90_000;
      let finished = false;
      void loopExit.then(() => (finished = true));
      // Journal polled every 5 ms, the page every 20 ms, until every line is on the page.
      const watchJournal = (async () => {
        while (pageTimes.size < iterations && performance.now() < deadline) {
          for (const line of readFileSync(journalPath, "utf8").split("\n")) {
            if (!line.includes('"result"') || line.includes('"baseline"')) continue;
            const iteration = JSON.parse(line).iteration as number;
            if (!lineTimes.has(iteration)) lineTimes.set(iteration, performance.now());
          }
          await Bun.sleep(5);
        }
      })();
      while (pageTimes.size < iterations && performance.now() < deadline && !(finished && lineTimes.size === 0)) {
        const shown = await page.evaluate<number[]>(
          "Array.from(document.querySelectorAll('.ark-dashboard tr.keep, .ark-dashboard tr.discard, .ark-dashboard tr.crash, .ark-dashboard tr.guard_fail')).map((row) => Number(row.cells[0].textContent))",
        );
        for (const iteration of shown) if (!pageTimes.has(iteration)) pageTimes.set(iteration, performance.now());
        await Bun.sleep(20);
      }
      await watchJournal;
      expect(await loopExit).toBe(0); // --iterations 3 done
      const latencies = [...lineTimes].map(([iteration, at]) =>
        Math.round((pageTimes.get(iteration) ?? Infinity) - at)
      );
      console.error(`live page during a loop: iterations showed ${latencies.join(", ")} ms after their journal lines`);
      expect(latencies).toHaveLength(iterations);
      for (const latency of latencies) expect(latency).toBeLessThan(LIVE_DEADLINE_MS);
      expect(await page.evaluate<string>("window.arkTestMark")).toBe("same page");
      expect(await served.stop()).toBe(130);
    },
    120_000,
  );

  test("the page follows the experiment to its next round; one pinned with --round stays", async () => {
    const root = baselined({ noise: 0.002 });
    setLever(root, "WEIGHT", "2.0");
    expect(runScript("iterate", ["-m", "round one's keep"], { cwd: root }).code).toBe(0);
    const following = await serve(root);
    const pinned = await serve(root, ["--round", "1"]);
    const events = openEvents(following.url);
    await events.waitFor(
      "round 1's page",
      (event) => /round one(&apos;|')s keep/.test(event.body),
    );
    expect(runScript("next-round", [], { cwd: root }).code).toBe(0);
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    setLever(root, "WEIGHT", "2.5");
    expect(runScript("iterate", ["-m", "round two's first step"], { cwd: root }).code).toBe(0);
    await events.waitFor("round 2's page", (event) => /round two(&apos;|')s first step/.test(event.body));
    const page = await (await fetch(following.url)).text();
    expect(page).toMatch(/round two(&apos;|')s first step/);
    const stayed = await (await fetch(pinned.url)).text();
    expect(stayed).toMatch(/round one(&apos;|')s keep/);
    expect(stayed).not.toMatch(/round two(&apos;|')s first step/);
    events.abort();
    expect(await following.stop()).toBe(130);
    expect(await pinned.stop()).toBe(130);
    expect(following.stderr()).not.toContain("could not read the experiment again");
  }, 60_000);

  test("many event streams get every update, and one that disconnects takes nothing down", async () => {
    const folder = temporaryFolder();
    const journalPath = join(folder, "autoresearch.jsonl");
    copyFileSync(join(KIT_ROOT, "test/fixtures/journals/round1.jsonl"), journalPath);
    const served = await serve(folder, ["--journal", journalPath]);
    const streams = Array.from({ length: 6 }, () => openEvents(served.url));
    for (const stream of streams) await stream.waitFor("the first render", (event) => event.version === 1);
    for (const stream of streams.slice(0, 2)) stream.abort();
    await Promise.all(streams.slice(0, 2).map((stream) => stream.done));

    const line = { type: "result", iteration: 16, commit: "feed123", score: 0.73, status: "keep" };
    const startedAt = performance.now();
    appendFileSync(journalPath, JSON.stringify({ ...line, description: "a line for six readers" }) + "\n");
    for (const stream of streams.slice(2)) {
      const event = await stream.waitFor("the new line", (event) => event.body.includes("a line for six readers"));
      expect(event.version).toBe(2);
    }
    expect(performance.now() - startedAt).toBeLessThan(LIVE_DEADLINE_MS);
    const page = await (await fetch(served.url)).text();
    expect(page).toContain("a line for six readers");
    expect(page).toContain('new EventSource("/events")');
    expect((await fetch(new URL("nothing-here", served.url))).status).toBe(404);
    expect((await fetch(served.url, { method: "POST" })).status).toBe(405);
    for (const stream of streams.slice(2)) stream.abort();
    expect(await served.stop()).toBe(130);
    expect(served.stderr()).toContain("this machine only");
    expect(served.stderr()).not.toContain("error");
  });

  test("under Deno it waits for a journal that does not exist yet, skips a torn last line, and shows it once whole", async () => {
    const folder = temporaryFolder();
    const journalPath = join(folder, "later.jsonl");
    const served = await serve(folder, ["--journal", "later.jsonl", "--json"], "deno");
    expect(await (await fetch(served.url)).text()).toContain("Waiting for the journal");
    await waitFor("the note on stderr", () => served.stderr().includes("No journal at later.jsonl yet"));
    const events = openEvents(served.url);
    await events.waitFor("the waiting page", (event) => event.body.includes("Waiting for the journal"));

    const [config, baseline, ...rest] = readFileSync(join(KIT_ROOT, "test/fixtures/journals/round1.jsonl"), "utf8")
      .split("\n");
    writeFileSync(journalPath, `${config}\n${baseline}\n`);
    await events.waitFor("the dashboard", (event) => event.body.includes("Iterations"));
    const torn = rest[0];
    appendFileSync(journalPath, torn.slice(0, 40));
    await Bun.sleep(700); // several polls: the torn line must not break the page
    appendFileSync(journalPath, `${torn.slice(40)}\n`);
    const whole = await events.waitFor(
      "the completed line",
      (event) => event.body.includes("Increased location base weight from 2x to 5x"),
    );
    expect(whole.title).toBe("Autoresearch Dashboard: precision@12");
    expect(events.events.every((event) => event.body.includes("ark-dashboard"))).toBe(true);
    events.abort();
    expect(await served.stop()).toBe(130);
    expect(served.stderr()).not.toContain("re-render failed");
  });

  test("it finds the experiment from the user's checkout through the worktree pointer", async () => {
    const root = pythonExperiment();
    const baseline = runScript("baseline", ["--worktree"], { cwd: root });
    expect(baseline.code).toBe(0);
    mkdirSync(join(root, "docs"));
    const served = await serve(join(root, "docs"), ["--json"]);
    const page = await (await fetch(served.url)).text();
    expect(page).toContain("<title>Autoresearch Dashboard: score</title>");
    expect(page).toContain("Baseline");
    expect(served.stderr()).toContain(".autoresearch/worktrees/");
    expect(await served.stop()).toBe(130);
  });

  test("wrong flags and a taken port get one line and exit 2", async () => {
    const folder = temporaryFolder();
    const journalPath = join(folder, "autoresearch.jsonl");
    copyFileSync(join(KIT_ROOT, "test/fixtures/journals/round1.jsonl"), journalPath);
    const cases: [string[], string][] = [
      [["--serve", "--format", "md"], "--format md is for stdout"],
      [["--serve", "--watch"], "drop --watch"],
      [["--port", "9000"], "--port goes with --serve"],
      [["--serve", "--port", "70000"], "--port must be at most 65535"],
    ];
    for (const [args, message] of cases) {
      const result = runScript("dashboard", ["--journal", journalPath, ...args], { cwd: folder });
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain(message);
    }

    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = runScript("dashboard", ["--journal", journalPath, "--serve", "--port", String(port), "--json"], {
        cwd: folder,
      });
      expect(result.code).toBe(2);
      expect(JSON.parse(result.stdout).error.code).toBe("E_PORT_IN_USE");
      expect(result.stderr).toContain(`Port ${port} on 127.0.0.1 is in use`);
      expect(result.stderr).toContain("--port 0");
    } finally {
      blocker.close();
    }
  });
});
