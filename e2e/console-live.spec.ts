/**
 * Pages stay live: what happens elsewhere (the API, the CLI, an agent, an edit in
 * the workspace) shows on an open overview, timeline, history and checkpoint page
 * within 2 s, without losing "Load older" pages or an open dialog; drift per
 * component with Checkpoint now; the live match follows the workspace, and a
 * partial checkpoint is said to match "in its scope", never exactly.
 */
import path from "node:path";
import { writeFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { breakWorkspace, callApi, cli, collectPageErrors, componentWithCheckpoint, signIn, uniqueName } from "./support";

/** What the pages promise: a poll every second (lib/trpc/live-polling.ts), the request and the render, within 2 s. */
const WITHIN_2_S = { timeout: 2_000 };
/** Drift is polled every 10 s (lib/trpc/live-polling.ts). */
const WITHIN_A_DRIFT_POLL = { timeout: 12_000 };

test("a checkpoint and a status change made through the API show on an open timeline and overview within 2 s", async ({ page }) => {
  const pageErrors = collectPageErrors(page);
  const { name, root } = await componentWithCheckpoint("live-poll");
  await signIn(page);
  const row = page.getByRole("row", { name: new RegExp(name) });
  await expect(row.locator("td").nth(2)).toHaveText("1");

  writeFileSync(path.join(root, "config.json"), '{ "retries": 5 }\n');
  await callApi("checkpoint.create", { component: name, reason: "taken by an agent elsewhere" });
  await expect(row.locator("td").nth(2)).toHaveText("2", WITHIN_2_S);
  await callApi("component.upsert", { name, root, exclude: ["node_modules/**"], metadata: { owner: "platform-team", status: "deprecated" } });
  await expect(row).toContainText("deprecated", WITHIN_2_S);

  await page.goto(`/components/${name}`);
  await expect(page.getByTestId("timeline-item")).toHaveCount(2);
  // An open dialog stays open (and keeps its plan) while the page refreshes under it.
  await page.getByTestId("timeline-item").first().getByRole("button", { name: "Roll back…" }).click();
  const dialog = page.getByRole("alertdialog");
  await expect(dialog.getByTestId("rollback-plan")).toBeVisible();
  writeFileSync(path.join(root, "config.json"), '{ "retries": 6 }\n');
  const third = await callApi<{ id: string }>("checkpoint.create", { component: name, reason: "third, while a dialog is open" });
  await expect(page.locator(`[data-testid="timeline-item"][data-checkpoint-id="${third.id}"]`)).toBeAttached(WITHIN_2_S);
  await expect(dialog.getByTestId("rollback-plan")).toBeVisible();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("deprecated");
  expect(pageErrors).toEqual([]);
});

test("polling keeps the pages loaded with Load older and the scroll position", async ({ page }) => {
  const { name, root } = await componentWithCheckpoint("live-pages");
  for (let i = 0; i < 26; i++) {
    writeFileSync(path.join(root, "counter.txt"), `${i}\n`);
    await callApi("checkpoint.create", { component: name, reason: `step ${i}` });
  }
  await signIn(page);
  await page.goto(`/components/${name}`);
  await expect(page.getByTestId("timeline-item")).toHaveCount(25);
  await page.getByRole("button", { name: "Load older" }).click();
  await expect(page.getByTestId("timeline-item")).toHaveCount(27);
  await page.getByTestId("timeline-item").last().scrollIntoViewIfNeeded();
  const scrolled = await page.evaluate(() => window.scrollY);
  expect(scrolled).toBeGreaterThan(0);

  writeFileSync(path.join(root, "counter.txt"), "new\n");
  const newest = await callApi<{ id: string }>("checkpoint.create", { component: name, reason: "newest" });
  await expect(page.locator(`[data-testid="timeline-item"][data-checkpoint-id="${newest.id}"]`)).toBeAttached(WITHIN_2_S);
  // Both pages are still there (refetched in place), and the view was not sent back to the top.
  await expect(page.getByTestId("timeline-item")).toHaveCount(28);
  expect(await page.evaluate(() => window.scrollY)).toBeGreaterThanOrEqual(scrolled);
});

test("the overview shows each component's drift since its last checkpoint, and Checkpoint now takes it to zero; a viewer has no button", async ({ page }) => {
  const { name, root } = await componentWithCheckpoint("live-drift");
  await signIn(page);
  const row = page.getByRole("row", { name: new RegExp(name) });
  await expect(row.getByTestId("drift-text")).toHaveText("No changes since the last checkpoint");
  await expect(row.getByRole("button", { name: "Checkpoint now" })).toHaveCount(0);

  // 2 added (farewell.ts, notes/agent-scratch.md), 2 modified (greeting.ts, config.json), 1 deleted (README.md).
  breakWorkspace(root);
  await expect(row.getByTestId("drift-text")).toHaveText("5 files changed since the last checkpoint (2 added · 2 modified · 1 deleted)", WITHIN_A_DRIFT_POLL);
  await row.getByTestId("drift-text").click();
  await expect(row.getByTestId("drift")).toContainText("deleted README.md");

  const viewer = await callApi<{ token: string }>("auth.createToken", { name: uniqueName("viewer"), role: "viewer" });
  const viewerPage = await page.context().browser()?.newPage();
  if (!viewerPage) throw new Error("no browser");
  await signIn(viewerPage, viewer.token);
  const viewerRow = viewerPage.getByRole("row", { name: new RegExp(name) });
  await expect(viewerRow.getByTestId("drift-text")).toContainText("5 files changed");
  await expect(viewerRow.getByRole("button", { name: "Checkpoint now" })).toHaveCount(0);
  await viewerPage.close();

  await row.getByRole("button", { name: "Checkpoint now" }).click();
  await expect(row.getByTestId("drift-text")).toHaveText("No changes since the last checkpoint", WITHIN_2_S);
  await expect(row.locator("td").nth(2)).toHaveText("2");
  const list = await callApi<{ items: { reason: string | null }[] }>("checkpoint.list", { component: name }, { method: "query" });
  expect(list.items[0]?.reason).toBe("checkpoint from the dashboard (drift)");
});

test("matches live follows the workspace; a partial checkpoint matches in its scope, never exactly, while files outside it differ", async ({ page }) => {
  const { name, root, checkpoint } = await componentWithCheckpoint("live-match");
  await signIn(page);
  await page.goto(`/components/${name}`);
  const first = page.locator(`[data-testid="timeline-item"][data-checkpoint-id="${checkpoint.id}"]`);
  await expect(first.getByTestId("matches-live")).toHaveText("matches live");
  await expect(page.getByTestId("live-match")).toContainText(`matches checkpoint ${checkpoint.id} exactly`);

  writeFileSync(path.join(root, "config.json"), '{ "retries": 9 }\n');
  await expect(first.getByTestId("matches-live")).toHaveCount(0, WITHIN_2_S);
  await expect(page.getByTestId("live-match")).toContainText("matches none");

  // config.json (outside its scope) differs from every checkpoint; the partial one matches its own paths.
  const partial = await callApi<{ id: string }>("checkpoint.create", { component: name, paths: ["src/greeting.ts"], reason: "greeting only" });
  const card = page.locator(`[data-testid="timeline-item"][data-checkpoint-id="${partial.id}"]`);
  await expect(card.getByTestId("matches-live")).toHaveText("matches live in its scope", WITHIN_2_S);
  const line = page.getByTestId("live-match");
  await expect(line).toHaveAttribute("data-partial", "true");
  await expect(line).toContainText(`matches checkpoint ${partial.id} in its scope`);
  await expect(line).not.toContainText("exactly");
});

test("compact rows say what the cards say: matches live for a whole checkpoint, matches live in its scope for a partial one", async ({ page }) => {
  const { name, root, checkpoint } = await componentWithCheckpoint("live-compact");
  await signIn(page);
  await page.goto(`/components/${name}`);
  const row = (id: string) => page.locator(`[data-testid="timeline-item"][data-checkpoint-id="${id}"]`);
  await expect(row(checkpoint.id).getByTestId("matches-live")).toHaveText("matches live");
  await page.getByLabel("Compact: one line per checkpoint").check();
  await expect(row(checkpoint.id)).toHaveAttribute("data-compact", "true");
  await expect(row(checkpoint.id).getByTestId("matches-live")).toHaveText("matches live");

  // config.json (outside the partial checkpoint's scope) differs from every checkpoint.
  writeFileSync(path.join(root, "config.json"), '{ "retries": 9 }\n');
  const partial = await callApi<{ id: string }>("checkpoint.create", { component: name, paths: ["src/greeting.ts"], reason: "greeting only" });
  await expect(row(partial.id)).toHaveAttribute("data-compact", "true", WITHIN_2_S);
  await expect(row(partial.id).getByTestId("matches-live")).toHaveText("matches live in its scope", WITHIN_2_S);
  await expect(row(partial.id).getByTestId("matches-live").locator("..")).toHaveAttribute("title", /files outside its scope were not compared/);
  await expect(row(checkpoint.id).getByTestId("matches-live")).toHaveCount(0);
});

/** `safetynet rollback <id> --yes` through the CLI, beside the running server; the new rollback's id. */
function rollBackWithCli(checkpointId: string): string {
  const result = cli(["rollback", checkpointId, "--yes", "--json"]);
  expect(result.status, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { rollbackId: string }).rollbackId;
}

test("a rollback made through the CLI shows on an open history page within 2 s", async ({ page }) => {
  const { name, root, checkpoint } = await componentWithCheckpoint("live-history");
  await signIn(page);
  await page.goto(`/history?component=${name}`);
  const table = page.getByTestId("history-table");
  await expect(table.locator('tr[data-kind="checkpoint.create"]')).toHaveCount(1);
  await expect(table.locator('tr[data-kind="rollback"]')).toHaveCount(0);

  breakWorkspace(root);
  const rollbackId = rollBackWithCli(checkpoint.id);
  const row = table.locator('tr[data-kind="rollback"]');
  await expect(row).toHaveCount(1, WITHIN_2_S);
  await expect(row).toContainText(rollbackId);
  await expect(row).toHaveAttribute("data-outcome", "succeeded");
});

test("a rollback made through the CLI shows on an open timeline within 2 s", async ({ page }) => {
  const { name, root, checkpoint } = await componentWithCheckpoint("live-timeline-rollback");
  await signIn(page);
  await page.goto(`/components/${name}`);
  await expect(page.getByTestId("timeline-item")).toHaveCount(1);
  await expect(page.getByTestId("timeline-rollback")).toHaveCount(0);

  breakWorkspace(root);
  const rollbackId = rollBackWithCli(checkpoint.id);
  await expect(page.locator(`[data-testid="timeline-rollback"][data-rollback-id="${rollbackId}"]`)).toBeAttached(WITHIN_2_S);
  // With its safety checkpoint, taken just before it.
  await expect(page.getByTestId("timeline-item")).toHaveCount(2, WITHIN_2_S);
});

test("a pin and a verification made elsewhere show on an open checkpoint page within 2 s", async ({ page }) => {
  const { checkpoint } = await componentWithCheckpoint("live-checkpoint");
  await signIn(page);
  await page.goto(`/checkpoints/${checkpoint.id}`);
  const header = page.locator("header").filter({ has: page.getByRole("heading", { level: 1, name: checkpoint.id }) });
  const pinned = header.getByTitle("Pinned: retention never removes it");
  const checksum = header.locator("[data-verify-state]");
  await expect(checksum).toHaveAttribute("data-verify-state", "unverified");
  await expect(pinned).toHaveCount(0);

  await callApi("checkpoint.pin", { id: checkpoint.id, pinned: true });
  await expect(pinned).toBeVisible(WITHIN_2_S);

  const verified = cli(["checkpoint", "verify", checkpoint.id, "--json"]);
  expect(verified.status, verified.stderr).toBe(0);
  await expect(checksum).toHaveAttribute("data-verify-state", "verified", WITHIN_2_S);

  await callApi("checkpoint.pin", { id: checkpoint.id, pinned: false });
  await expect(pinned).toHaveCount(0, WITHIN_2_S);
});
