// `npm run bench -- --console`: how fast the operator's console shows a big component.
//
// Seeds one component with N checkpoints (default 10,000) spread over D days
// (scripts/bench-console-seed.ts: one real checkpoint, the rest inserted through
// the core's database client, with history events, rollbacks and verifications),
// starts the production server (`next start`) on that data directory, and measures
// (median of R runs after one warm-up):
//   - the component page's HTML as a client fetches it (server-rendered, with the
//     first timeline page and the list of days in it),
//   - the first timeline query and the days query over the API,
//   - a date jump to the oldest day (the page for ?day=...),
//   - in Chromium (Playwright): from navigation to the first timeline card on screen,
//     and the first contentful paint.
// Target: the first screen under 1 s. Writes .bench/console.json.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { webBuildIsStale } from "./build-freshness.mjs";
import { bundleForNode } from "./bench/bundle.mjs";
import { freePort, sleep } from "./bench/processes.mjs";
import { median } from "./bench/stats.mjs";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SEED_SOURCE = path.join(repoRoot, "scripts", "bench-console-seed.ts");
const SEED_BUNDLE = path.join(repoRoot, "dist", "bench", "console-seed.mjs");
const RESULTS_FILE = path.join(repoRoot, ".bench", "console.json");
const NEXT_BIN = path.join(repoRoot, "node_modules", "next", "dist", "bin", "next");
const FIRST_SCREEN_TARGET_MS = 1000;
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

function bundleSeed() {
  return bundleForNode(SEED_SOURCE, SEED_BUNDLE);
}

async function startServer(dataDir, workspace, logFile) {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const log = fs.openSync(logFile, "w");
  const child = spawn(process.execPath, [NEXT_BIN, "start", "-H", "127.0.0.1", "-p", String(port)], {
    cwd: repoRoot,
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", SAFETYNET_DATA_DIR: dataDir, SAFETYNET_ALLOWED_ROOTS: workspace, SAFETYNET_RETENTION_SCHEDULE: "off" },
    stdio: ["ignore", log, log],
  });
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited:\n${fs.readFileSync(logFile, "utf8").slice(-3000)}`);
    if (Date.now() > deadline) throw new Error("the server was not ready after 90 s");
    try {
      if ((await fetch(`${baseUrl}/api/health`)).ok) break;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  const token = fs.readFileSync(path.join(dataDir, "admin-token"), "utf8").trim();
  return {
    baseUrl,
    token,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", resolve);
        child.kill("SIGTERM");
      }),
  };
}

/** Milliseconds until the whole response body arrived. */
async function timedFetch(url, token) {
  const t0 = performance.now();
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const body = await response.text();
  const ms = performance.now() - t0;
  if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status}: ${body.slice(0, 300)}`);
  return { ms, body };
}

async function sample(runs, measure) {
  await measure(); // warm-up: the first request compiles and fills caches
  const values = [];
  for (let i = 0; i < runs; i++) values.push(await measure());
  return values;
}

async function browserSamples(server, name, runs) {
  let chromium;
  try {
    ({ chromium } = await import("@playwright/test"));
  } catch {
    return null;
  }
  const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!fs.existsSync(executablePath)) return null;
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.baseUrl}/login`);
    await page.getByLabel("Token or login code").fill(server.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${server.baseUrl}/`);
    const url = `${server.baseUrl}/components/${encodeURIComponent(name)}`;
    const firstCard = [];
    const fcp = [];
    await page.goto(url);
    for (let i = 0; i < runs; i++) {
      await page.goto("about:blank");
      const t0 = performance.now();
      await page.goto(url, { waitUntil: "commit" });
      await page.locator('[data-testid="timeline-item"]').first().waitFor({ state: "visible" });
      firstCard.push(performance.now() - t0);
      fcp.push(await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null));
    }
    return { firstCard, fcp: fcp.filter((x) => x !== null) };
  } finally {
    await browser.close();
  }
}

export async function consoleScenario({ checkpoints, days, runs }) {
  if (webBuildIsStale(repoRoot)) {
    process.stderr.write("bench --console: building the web app (next build) ...\n");
    const build = spawnSync(process.execPath, [NEXT_BIN, "build"], { cwd: repoRoot, env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" }, stdio: "inherit" });
    if (build.status !== 0) throw new Error("next build failed");
  }
  await bundleSeed();
  const work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "safetynet-bench-console-")));
  const dataDir = path.join(work, "data");
  const workspace = path.join(work, "workspace");
  const root = path.join(workspace, "big-app");
  fs.mkdirSync(path.join(root, "src"), { recursive: true });
  for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(root, "src", `module-${i}.ts`), `export const value${i} = ${i};\n`);
  const name = "big-app";
  try {
    process.stderr.write(`bench --console: seeding ${checkpoints} checkpoints over ${days} days ...\n`);
    const seeded = spawnSync(process.execPath, [SEED_BUNDLE, JSON.stringify({ dataDir, cwd: work, root, name, checkpoints, days })], {
      cwd: repoRoot,
      env: { ...process.env, SAFETYNET_ALLOWED_ROOTS: workspace },
      encoding: "utf8",
    });
    if (seeded.status !== 0) throw new Error(`seeding failed:\n${seeded.stderr}`);
    const seed = JSON.parse(seeded.stdout.trim().split("\n").pop());
    process.stderr.write(`bench --console: seeded in ${(seed.ms / 1000).toFixed(1)} s; starting the server ...\n`);

    const server = await startServer(dataDir, workspace, path.join(work, "server.log"));
    try {
      const page = `${server.baseUrl}/components/${name}`;
      const input = (value) => encodeURIComponent(JSON.stringify(value));
      const html = await sample(runs, async () => {
        const { ms, body } = await timedFetch(page, server.token);
        if (!body.includes('data-testid="timeline-item"')) throw new Error("the page HTML holds no timeline card: it was not rendered on the server");
        return ms;
      });
      const firstQuery = await sample(runs, async () => (await timedFetch(`${server.baseUrl}/api/trpc/component.timeline?input=${input({ component: name, limit: 25 })}`, server.token)).ms);
      const daysQuery = await sample(runs, async () => (await timedFetch(`${server.baseUrl}/api/trpc/component.timelineDays?input=${input({ name })}`, server.token)).ms);
      const jump = await sample(runs, async () => {
        const { ms, body } = await timedFetch(`${page}?day=${seed.oldestDay}`, server.token);
        if (!body.includes(`data-day="${seed.oldestDay}"`)) throw new Error(`the jump to ${seed.oldestDay} did not show that day`);
        return ms;
      });
      process.stderr.write("bench --console: measuring in Chromium ...\n");
      const browser = await browserSamples(server, name, runs);
      const results = {
        environment: { node: process.version, cpus: os.cpus().length, loadAvg: os.loadavg(), date: new Date().toISOString() },
        seed,
        runs,
        samples: { html, firstQuery, daysQuery, jump, browserFirstCard: browser?.firstCard ?? null, browserFcp: browser?.fcp ?? null },
        medians: {
          html: median(html),
          firstQuery: median(firstQuery),
          daysQuery: median(daysQuery),
          jump: median(jump),
          browserFirstCard: browser ? median(browser.firstCard) : null,
          browserFcp: browser ? median(browser.fcp) : null,
        },
      };
      const firstScreen = results.medians.browserFirstCard ?? results.medians.html;
      results.target = { firstScreenMs: firstScreen, limitMs: FIRST_SCREEN_TARGET_MS, pass: firstScreen < FIRST_SCREEN_TARGET_MS };
      fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
      fs.writeFileSync(RESULTS_FILE, JSON.stringify(results, null, 2) + "\n");
      return results;
    } finally {
      await server.stop();
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export function consoleTable(results) {
  const ms = (x) => (x === null ? "—" : `${Math.round(x)} ms`);
  const m = results.medians;
  return [
    `Console, one component with ${results.seed.checkpoints.toLocaleString("en-US")} checkpoints over ${results.seed.oldestDay} … ${results.seed.newestDay} (${results.seed.rollbacks} rollbacks, ${results.seed.events.toLocaleString("en-US")} history events); median of ${results.runs} runs, \`next start\`:`,
    "",
    "| measurement | median |",
    "| --- | --- |",
    `| component page HTML (server-rendered, first timeline page and days included) | ${ms(m.html)} |`,
    `| first timeline query (component.timeline, 25 items) | ${ms(m.firstQuery)} |`,
    `| list of days for the date jump (component.timelineDays) | ${ms(m.daysQuery)} |`,
    `| date jump to the oldest day (page HTML for ?day=${results.seed.oldestDay}) | ${ms(m.jump)} |`,
    `| Chromium: navigation to the first timeline card on screen | ${ms(m.browserFirstCard)} |`,
    `| Chromium: first contentful paint | ${ms(m.browserFcp)} |`,
    "",
    `first screen under ${results.target.limitMs} ms: ${results.target.pass ? "PASS" : "MISS"} (${ms(results.target.firstScreenMs)})`,
  ].join("\n");
}
