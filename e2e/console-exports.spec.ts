/**
 * Exports from the browser: the filtered history as CSV and JSON (every page,
 * compared with history.list), and a checkpoint as .tar.gz and .zip, extracted and
 * compared byte for byte with `safetynet checkpoint restore` (modes, mtimes and
 * symlinks from the tar); a corrupt object makes the download fail.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import path from "node:path";
import { expect, test, type Download } from "@playwright/test";
import { callApi, componentWithCheckpoint, corruptStoredObject, describeTree, keepScreenshot, restoreWithCli, secondMtimes, signIn, uniqueName, WORKSPACE, writeTree } from "./support";
import { parseCsv } from "../test/support/csv";

interface HistoryItem {
  id: string;
  kind: string;
  actor: string;
  [key: string]: unknown;
}

async function historyOf(filter: Record<string, unknown>): Promise<HistoryItem[]> {
  const items: HistoryItem[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await callApi<{ items: HistoryItem[]; nextCursor: string | null }>("history.list", { ...filter, limit: 100, ...(cursor ? { cursor } : {}) }, { method: "query" });
    items.push(...page.items);
    if (!page.nextCursor) return items;
    cursor = page.nextCursor;
  }
}

async function saved(download: Download): Promise<string> {
  expect(await download.failure()).toBeNull();
  const file = path.join(mkdtempSync(path.join(WORKSPACE, "dl-")), download.suggestedFilename());
  await download.saveAs(file);
  return file;
}

test("downloads the filtered history as CSV and JSON: every matching event, equal to history.list", async ({ page }) => {
  const { name, root, checkpoint } = await componentWithCheckpoint("web-audit");
  // More events than one page of the history table (50) by a token whose name the partial actor filter finds.
  const bot = await callApi<{ name: string; token: string }>("auth.createToken", { name: uniqueName("build-bot"), role: "operator" });
  for (let i = 0; i < 60; i++) await callApi("component.upsert", { name, root, metadata: { run: i } }, { token: bot.token });
  await callApi("checkpoint.verify", { id: checkpoint.id });

  await signIn(page);
  await page.goto("/history");
  await page.getByLabel("Component").selectOption(name);
  await page.getByLabel("Actor (any part)").fill("build-bot");
  const today = new Date().toISOString().slice(0, 10);
  await page.getByLabel("From (UTC day)").fill(today);
  await page.getByLabel("To (UTC day, inclusive)").fill(today);
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(new RegExp(`actor=build-bot.*from=${today}.*to=${today}`));
  await expect(page.getByTestId("history-table").locator("tr[data-kind]")).toHaveCount(50);
  await keepScreenshot(page, "history-filtered");

  const filter = { component: name, actor: "build-bot", since: `${today}T00:00:00.000Z`, until: `${today}T23:59:59.999Z` };
  const expected = await historyOf(filter);
  expect(expected).toHaveLength(60);

  const [csvDownload] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-csv").click()]);
  expect(csvDownload.suggestedFilename()).toMatch(new RegExp(`^safetynet-history-${name}-\\d{4}-\\d{2}-\\d{2}\\.csv$`));
  const [header, ...rows] = parseCsv(readFileSync(await saved(csvDownload), "utf8"));
  expect(header?.slice(0, 7)).toEqual(["id", "startedAt", "kind", "outcome", "actor", "component", "checkpointId"]);
  expect(rows.map((r) => r[0])).toEqual(expected.map((e) => e.id));
  expect(new Set(rows.map((r) => r[4]))).toEqual(new Set([`token:${bot.name}`]));

  const [jsonDownload] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-json").click()]);
  const json = JSON.parse(readFileSync(await saved(jsonDownload), "utf8")) as { filters: unknown; items: HistoryItem[] };
  expect(json.filters).toEqual(filter);
  expect(json.items).toEqual(expected);
});

test("downloads a checkpoint as .tar.gz and .zip, byte for byte what `checkpoint restore` writes (modes, mtimes and links from the tar)", async ({ page }) => {
  const { name, root, checkpoint: first } = await componentWithCheckpoint("web-archive");
  writeTree(root, { "bin/run.sh": "#!/bin/sh\necho run\n", "private.env": "KEY=1\n" });
  chmodSync(path.join(root, "bin/run.sh"), 0o755);
  chmodSync(path.join(root, "private.env"), 0o600);
  symlinkSync("../src/greeting.ts", path.join(root, "bin/greeting-link"));
  const checkpoint = await callApi<{ id: string }>("checkpoint.create", { component: name, reason: "for the archive" });
  expect(checkpoint.id).not.toBe(first.id);
  const reference = restoreWithCli(checkpoint.id);

  await signIn(page);
  await page.goto(`/checkpoints/${checkpoint.id}`);

  const [tarDownload] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-tar").click()]);
  expect(tarDownload.suggestedFilename()).toBe(`${name}-${checkpoint.id}.tar.gz`);
  const tar = await saved(tarDownload);
  const fromTar = mkdtempSync(path.join(WORKSPACE, "x-tar-"));
  execFileSync("tar", ["-xzf", tar, "-C", fromTar]);
  const tarFolder = path.join(fromTar, `${name}-${checkpoint.id}`);
  expect(describeTree(tarFolder)).toEqual(describeTree(reference));
  expect(describeTree(tarFolder)["bin/run.sh"]).toMatch(/^file 755 /);
  expect(describeTree(tarFolder)["private.env"]).toMatch(/^file 600 /);
  expect(describeTree(tarFolder)["bin/greeting-link"]).toBe("link -> ../src/greeting.ts");
  expect(secondMtimes(tarFolder)).toEqual(secondMtimes(reference));

  const [zipDownload] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-zip").click()]);
  expect(zipDownload.suggestedFilename()).toBe(`${name}-${checkpoint.id}.zip`);
  const zip = await saved(zipDownload);
  const fromZip = mkdtempSync(path.join(WORKSPACE, "x-zip-"));
  execFileSync("unzip", ["-q", zip, "-d", fromZip]);
  expect(describeTree(path.join(fromZip, `${name}-${checkpoint.id}`))).toEqual(describeTree(reference));
});

test("a corrupt object makes the archive download fail instead of saving a short archive", async ({ page }) => {
  const { checkpoint } = await componentWithCheckpoint("web-archive-bad");
  const logo = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31) % 256));
  const repair = corruptStoredObject(logo);
  try {
    await signIn(page);
    await page.goto(`/checkpoints/${checkpoint.id}`);
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-tar").click()]);
    expect(await download.failure()).not.toBeNull();
    // The server recorded what it found: the page, reloaded, names the file and disables Roll back.
    await page.reload();
    await expect(page.getByTestId("damage-panel")).toContainText("assets/logo.bin");
    await expect(page.getByRole("button", { name: "Roll back…" })).toBeDisabled();
  } finally {
    repair();
  }
});
