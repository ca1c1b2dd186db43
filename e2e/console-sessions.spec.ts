/**
 * Sessions in the console: an agent's checkpoints (one before each step, all
 * naming its session as their task) shown as one session with what it changed,
 * rolled back as a whole through the usual plan and confirm dialog; and the
 * timeline folding a run of checkpoints that changed nothing into one line.
 */
import path from "node:path";
import { rmSync, writeFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { callApi, collectPageErrors, hashTree, keepScreenshot, signIn, uniqueName, WORKSPACE, writeTree } from "./support";

async function component(prefix: string, files: Record<string, string>): Promise<{ name: string; root: string }> {
  const name = uniqueName(prefix);
  const root = path.join(WORKSPACE, name);
  writeTree(root, files);
  await callApi("component.upsert", { name, root });
  return { name, root };
}

test("shows an agent's session with its facts, and Roll back this session puts the files back as they were before it", async ({ page }) => {
  const pageErrors = collectPageErrors(page);
  const { name, root } = await component("web-session", { "src/app.ts": "export const version = 1;\n", "README.md": "# app\n", "notes.txt": "keep me\n" });
  const before = hashTree(root);
  const first = await callApi<{ id: string }>("checkpoint.create", { component: name, agent: "claude-code", task: "session-e2e-1" });
  writeFileSync(path.join(root, "src/app.ts"), "export const version = 2; // the agent\n");
  writeTree(root, { "src/extra.ts": "export const extra = true;\n" });
  await callApi("checkpoint.create", { component: name, agent: "claude-code", task: "session-e2e-1" });
  await callApi("checkpoint.create", { component: name, agent: "claude-code", task: "session-e2e-1" });
  // The last step, after the last checkpoint: a rollback to the state before the session undoes it too.
  rmSync(path.join(root, "README.md"));

  await signIn(page);
  await page.goto(`/components/${name}`);
  const preview = page.getByTestId("session");
  await expect(preview).toHaveCount(1);
  await expect(preview).toHaveAttribute("data-task", "session-e2e-1");
  await page.getByRole("link", { name: "All sessions" }).click();
  await expect(page).toHaveURL(new RegExp(`/components/${name}/sessions$`));
  await expect(page.getByRole("heading", { name: `Sessions of ${name}` })).toBeVisible();

  const session = page.locator('[data-testid="session"][data-task="session-e2e-1"]');
  await expect(session).toContainText("claude-code");
  await expect(session.getByTestId("session-steps")).toHaveText("3");
  // Recorded so far: src/app.ts modified, src/extra.ts added (README.md's deletion has no checkpoint after it yet).
  await expect(session.getByTestId("session-changes")).toHaveText("+1 ~1 -0");
  await expect(session).toContainText(first.id);
  await keepScreenshot(page, "sessions");

  await session.getByRole("button", { name: "Roll back this session…" }).click();
  const dialog = page.getByRole("alertdialog");
  await expect(dialog.getByRole("heading", { name: new RegExp(`^Roll back ${name} to`) })).toBeVisible();
  await expect(dialog).toContainText(first.id);
  await expect(dialog.getByTestId("plan-restore-count")).toHaveText("2");
  await expect(dialog.getByTestId("plan-delete-count")).toHaveText("1");
  await dialog.getByRole("button", { name: /^Confirm: roll back 3 changes/ }).click();
  await expect(dialog.getByTestId("rollback-result")).toContainText("2 restored · 1 deleted");
  expect(hashTree(root)).toEqual(before);
  await dialog.getByRole("button", { name: "Close" }).click();

  // The rollback's safety checkpoint recorded the last step: the session now counts it.
  await expect(session.getByTestId("session-changes")).toHaveText("+1 ~1 -1");
  expect(pageErrors).toEqual([]);
});

test("folds a run of checkpoints that changed nothing into one line, expanded on demand", async ({ page }) => {
  const { name, root } = await component("web-quiet", { "a.txt": "one\n" });
  const base = await callApi<{ id: string }>("checkpoint.create", { component: name, reason: "base" });
  const quiet: string[] = [];
  for (let i = 0; i < 3; i++) quiet.push((await callApi<{ id: string }>("checkpoint.create", { component: name, agent: "claude-code", task: "read-only-steps" })).id);
  writeFileSync(path.join(root, "a.txt"), "two\n");
  const changed = await callApi<{ id: string }>("checkpoint.create", { component: name, reason: "an edit" });
  writeFileSync(path.join(root, "a.txt"), "three\n");

  await signIn(page);
  await page.goto(`/components/${name}`);
  await expect(page.getByTestId("live-match")).toContainText("matches none");
  const run = page.getByTestId("quiet-run");
  await expect(run).toHaveCount(1);
  await expect(run).toHaveAttribute("data-count", "3");
  const line = run.getByRole("button", { name: /^3 checkpoints with no changes/ });
  await expect(line).toHaveAttribute("aria-expanded", "false");
  await expect(page.getByTestId("timeline-item")).toHaveCount(2);
  await expect(page.locator(`[data-testid="timeline-item"][data-checkpoint-id="${changed.id}"]`)).toBeVisible();
  await expect(page.locator(`[data-testid="timeline-item"][data-checkpoint-id="${base.id}"]`)).toBeVisible();
  await keepScreenshot(page, "quiet-run");

  await line.click();
  await expect(line).toHaveAttribute("aria-expanded", "true");
  await expect(page.getByTestId("timeline-item")).toHaveCount(5);
  for (const id of quiet) await expect(run.locator(`[data-testid="timeline-item"][data-checkpoint-id="${id}"]`)).toBeVisible();

  await line.click();
  await expect(page.getByTestId("timeline-item")).toHaveCount(2);
});
