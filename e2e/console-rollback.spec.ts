/**
 * Acting where you look: roll back from a timeline card and a history row through
 * the one confirm dialog, undo at once from the result, integrity before action
 * (damaged checkpoints disabled, refusals shown in full), and the scope of a
 * partial checkpoint in words. Every rollback is checked on disk.
 */
import path from "node:path";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import {
  breakWorkspace,
  callApi,
  collectPageErrors,
  componentWithCheckpoint,
  corruptStoredObject,
  hashTree,
  keepScreenshot,
  signIn,
  uniqueName,
  WORKSPACE,
  writeTree,
} from "./support";

const README = "# greeting\n\nSays hello.\n";

test("rolls back from a timeline card, then undoes it from the result dialog at once; the files on disk follow each step", async ({ page }) => {
  const pageErrors = collectPageErrors(page);
  const { name, root, checkpoint } = await componentWithCheckpoint("web-card");
  const before = hashTree(root);
  breakWorkspace(root);
  const broken = hashTree(root);

  await signIn(page);
  await page.goto(`/components/${name}`);
  await expect(page.getByTestId("live-match")).toContainText("matches none");
  await keepScreenshot(page, "timeline");
  const card = page.locator(`[data-testid="timeline-item"][data-checkpoint-id="${checkpoint.id}"]`);
  // Only what differs is marked: a manual, active checkpoint carries no kind or status pill.
  await expect(card.getByText("manual", { exact: true })).toHaveCount(0);
  await expect(card.getByText("active", { exact: true })).toHaveCount(0);
  await card.getByRole("button", { name: "Roll back…" }).click();

  const dialog = page.getByRole("alertdialog");
  await expect(dialog.getByTestId("plan-integrity")).toContainText("re-hashed just now");
  await expect(dialog.getByTestId("plan-restore-count")).toHaveText("3");
  await expect(dialog.getByTestId("plan-delete-count")).toHaveText("3");
  await keepScreenshot(page, "rollback-dialog", { fullPage: false });
  expect(hashTree(root)).toEqual(broken);
  await dialog.getByRole("button", { name: /^Confirm: roll back 6 changes/ }).click();
  await expect(dialog.getByTestId("rollback-result")).toContainText("3 restored · 3 deleted");
  expect(hashTree(root)).toEqual(before);

  // One click: the undo plan, labelled by what the undo does.
  await dialog.getByRole("button", { name: "Undo this rollback" }).click();
  await expect(dialog.getByRole("heading", { name: /^Undo rollback rb_/ })).toBeVisible();
  const plan = dialog.getByTestId("rollback-plan");
  await expect(plan).toHaveAttribute("data-plan-kind", "undo");
  const putBack = dialog.locator("section", { has: page.getByRole("heading", { name: /^Put back as they were before the rollback/ }) });
  await expect(putBack.getByRole("listitem").filter({ hasText: "src/farewell.ts" })).toContainText("bring back");
  await expect(putBack.getByRole("listitem").filter({ hasText: "src/greeting.ts" })).toContainText("revert");
  const removed = dialog.locator("section", { has: page.getByRole("heading", { name: /^Removed again: the rollback had restored these/ }) });
  await expect(removed).toContainText("README.md");
  await expect(dialog.getByText(/^Deleted: created after the checkpoint/)).toHaveCount(0);
  await keepScreenshot(page, "undo-plan", { fullPage: false });
  expect(hashTree(root)).toEqual(before);
  await dialog.getByRole("button", { name: /^Confirm: undo/ }).click();
  await expect(dialog.getByTestId("rollback-result")).toContainText("Rollback undone");
  expect(hashTree(root)).toEqual(broken);
  await dialog.getByRole("button", { name: "Close" }).click();

  // Both rollbacks are on the timeline with their outcome and duration; the undo put the component back, so it is not "rolled-back".
  await expect(page.getByTestId("timeline-rollback")).toHaveCount(2);
  await expect(page.getByTestId("timeline-rollback").first()).toContainText("succeeded");
  await expect(page.getByTestId("timeline-rollback").first()).toContainText("took");
  await expect(page.getByTestId("rolled-back-note")).toHaveCount(0);
  expect(pageErrors).toEqual([]);
});

test("rolls back from a history row through the same dialog", async ({ page }) => {
  const { name, root, checkpoint } = await componentWithCheckpoint("web-row");
  const before = hashTree(root);
  breakWorkspace(root);

  await signIn(page);
  await page.goto(`/history?component=${name}`);
  const row = page.getByTestId("history-table").locator('tr[data-kind="checkpoint.create"]');
  await expect(row).toContainText(checkpoint.id);
  await row.getByRole("button", { name: "Roll back…" }).click();
  const dialog = page.getByRole("alertdialog");
  await expect(dialog.getByRole("heading", { name: new RegExp(`^Roll back ${name} to`) })).toBeVisible();
  await dialog.getByRole("button", { name: /^Confirm/ }).click();
  await expect(dialog.getByTestId("rollback-result")).toContainText("3 restored · 3 deleted");
  expect(hashTree(root)).toEqual(before);
  await dialog.getByRole("button", { name: "Close" }).click();

  // The rollback's own row now offers its undo.
  const rollbackRow = page.getByTestId("history-table").locator('tr[data-kind="rollback"][data-outcome="succeeded"]');
  await expect(rollbackRow.getByRole("button", { name: "Undo…" })).toBeEnabled();
  await keepScreenshot(page, "history");
});

test("a checkpoint a verification found damaged has Roll back disabled, naming the file; the overview flags its component", async ({ page }) => {
  const { name, checkpoint } = await componentWithCheckpoint("web-damaged");
  const repair = corruptStoredObject(README);
  try {
    const verified = await callApi<{ state: string }>("checkpoint.verify", { id: checkpoint.id });
    expect(verified.state).toBe("corrupt");

    await signIn(page);
    const row = page.getByRole("row", { name: new RegExp(name) });
    await expect(row.getByTestId("damage-flag")).toHaveText("1 damaged checkpoint");
    await keepScreenshot(page, "overview");

    await page.goto(`/components/${name}`);
    const card = page.locator(`[data-testid="timeline-item"][data-checkpoint-id="${checkpoint.id}"]`);
    await expect(card.getByRole("button", { name: "Roll back…" })).toBeDisabled();
    await expect(card.getByTestId("damage-note")).toContainText("its last check found 1 damaged file: README.md (corrupt)");
    await expect(card.getByTestId("rollback-blocked")).toContainText("Roll back is disabled");
    await expect(page.getByTestId("timeline-event").filter({ hasText: "Verification found damage" })).toBeVisible();

    await page.goto(`/checkpoints/${checkpoint.id}`);
    await expect(page.getByTestId("damage-panel")).toContainText("README.md");
    await expect(page.getByRole("button", { name: "Roll back…" })).toBeDisabled();
  } finally {
    repair();
  }
});

test("a plan refused for damaged data (422) is shown in full at the top of the dialog, without Plan again, and the damage is then known", async ({ page }) => {
  const { name, root, checkpoint } = await componentWithCheckpoint("web-422");
  breakWorkspace(root); // README.md deleted: the rollback needs its stored copy
  const repair = corruptStoredObject(README);
  try {
    await signIn(page);
    await page.goto(`/components/${name}`);
    const card = page.locator(`[data-testid="timeline-item"][data-checkpoint-id="${checkpoint.id}"]`);
    await card.getByRole("button", { name: "Roll back…" }).click();
    const dialog = page.getByRole("alertdialog");
    const refusal = dialog.getByTestId("rollback-error");
    await expect(refusal).toHaveAttribute("data-problem", "integrity");
    await expect(refusal).toContainText("422 UNPROCESSABLE_CONTENT");
    await expect(refusal.getByRole("list", { name: "Damaged files" })).toContainText("corrupt README.md");
    await expect(refusal).toBeInViewport({ ratio: 1 });
    await expect(dialog.getByRole("button", { name: "Plan again" })).toHaveCount(0);
    await expect(dialog.getByRole("button", { name: /^Confirm/ })).toBeDisabled();
    await keepScreenshot(page, "refused-422", { fullPage: false });
    await dialog.getByRole("button", { name: "Cancel" }).click();

    await page.reload();
    await expect(card.getByRole("button", { name: "Roll back…" })).toBeDisabled();
    await expect(card.getByTestId("damage-note")).toContainText("README.md (corrupt)");
  } finally {
    repair();
  }
});

/** A component whose file `data` the agent turned into a folder holding an ignored file (a rollback never touches it), after a checkpoint. */
async function folderInTheWay(label: string): Promise<{ name: string; root: string; checkpoint: { id: string }; before: ReturnType<typeof hashTree> }> {
  const name = uniqueName(label);
  const root = path.join(WORKSPACE, name);
  writeTree(root, { ".gitignore": "*.log\n", data: "a file that becomes a folder\n", "src/app.ts": "export {};\n" });
  await callApi("component.upsert", { name, root });
  const checkpoint = await callApi<{ id: string }>("checkpoint.create", { component: name });
  const before = hashTree(root);
  rmSync(path.join(root, "data"));
  mkdirSync(path.join(root, "data"));
  writeFileSync(path.join(root, "data", "keep.log"), "ignored, so a rollback never touches it\n");
  return { name, root, checkpoint, before };
}

test("a plan refused because files it may not touch are in the way (409) names them, and Plan again works once they are moved", async ({ page }) => {
  const { root, checkpoint, before } = await folderInTheWay("web-409");

  await signIn(page);
  await page.goto(`/checkpoints/${checkpoint.id}`);
  await page.getByRole("button", { name: "Roll back…" }).click();
  const dialog = page.getByRole("alertdialog");
  const refusal = dialog.getByTestId("rollback-error");
  await expect(refusal).toContainText("Refused: files the rollback may not touch are in the way");
  await expect(refusal.getByRole("list", { name: "In the way" })).toContainText("to restore data, in the way: data/keep.log");
  await expect(refusal).toContainText("409 CONFLICT");

  rmSync(path.join(root, "data", "keep.log"));
  await dialog.getByRole("button", { name: "Plan again" }).click();
  await expect(dialog.getByTestId("rollback-error")).toHaveCount(0);
  await dialog.getByRole("button", { name: /^Confirm/ }).click();
  await expect(dialog.getByTestId("rollback-result")).toBeVisible();
  expect(hashTree(root)).toEqual(before);
});

test("a plan refused because of files in the way offers to move them aside: the plan lists them, the rollback moves them into the quarantine", async ({ page }) => {
  const { root, checkpoint, before } = await folderInTheWay("web-move");

  await signIn(page);
  await page.goto(`/checkpoints/${checkpoint.id}`);
  await page.getByRole("button", { name: "Roll back…" }).click();
  const dialog = page.getByRole("alertdialog");
  await expect(dialog.getByTestId("rollback-error")).toContainText("Refused: files the rollback may not touch are in the way");
  await dialog.getByRole("button", { name: "Move them to the quarantine" }).click();
  await expect(dialog.getByTestId("rollback-error")).toHaveCount(0);
  await expect(dialog.getByTestId("plan-obstacles")).toContainText("data/keep.log (in the way of data)");
  await dialog.getByRole("button", { name: /^Confirm/ }).click();
  const result = dialog.getByTestId("rollback-result");
  await expect(result).toBeVisible();
  await expect(result.getByTestId("result-moved-obstacles")).toContainText("data/keep.log →");
  expect(hashTree(root)).toEqual(before);
  const moved = (await result.getByTestId("result-moved-obstacles").getByRole("listitem").textContent()) ?? "";
  expect(readFileSync(moved.split(" → ")[1] as string, "utf8")).toBe("ignored, so a rollback never touches it\n");
});

test("a partial checkpoint's plan says in words what is restored and what stays", async ({ page }) => {
  const { name, root } = await componentWithCheckpoint("web-partial");
  const partial = await callApi<{ id: string }>("checkpoint.create", { component: name, paths: ["src/greeting.ts"], reason: "only the greeting" });
  writeFileSync(path.join(root, "src/greeting.ts"), "export const broken = true;\n");
  writeFileSync(path.join(root, "config.json"), '{ "outside": "the checkpoint" }\n');

  await signIn(page);
  await page.goto(`/components/${name}`);
  const card = page.locator(`[data-testid="timeline-item"][data-checkpoint-id="${partial.id}"]`);
  await expect(card.getByText("partial", { exact: true })).toBeVisible();
  await card.getByRole("button", { name: "Roll back…" }).click();
  const dialog = page.getByRole("alertdialog");
  await expect(dialog.getByTestId("plan-scope-sentence")).toHaveText("Only these 2 paths (the file, its tests) are restored; 1 other changed file stays as it is.");
  const scope = dialog.getByTestId("plan-scope");
  await expect(scope.getByRole("listitem").filter({ hasText: "src/greeting.test.ts" })).toContainText("a test of a primary file");
  await scope.getByText(/Changed since the checkpoint, outside its scope/).click();
  await expect(scope).toContainText("config.json");
  await keepScreenshot(page, "partial-plan", { fullPage: false });
  await dialog.getByRole("button", { name: /^Confirm/ }).click();
  await expect(dialog.getByTestId("rollback-result")).toContainText("1 restored");
  expect(readFileSync(path.join(root, "src/greeting.ts"), "utf8")).toContain("Hello, ${name}!");
  expect(readFileSync(path.join(root, "config.json"), "utf8")).toBe('{ "outside": "the checkpoint" }\n');
});
