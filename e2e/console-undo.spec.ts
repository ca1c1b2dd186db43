/**
 * Undo reads right everywhere: an undone rollback says by which rollback and when
 * and offers no Undo; an undo is "Undo of rb_…"; the timeline's Undo opens the same
 * "Undo rollback rb_…" dialog as the result dialog's; a result's title says what
 * happened; after an undo the component is not "rolled-back". And alarms you can
 * act on: the damaged pill, failed and refused rollbacks (per component and in
 * the summary) and rollback ids link to what they count.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { expect, test, type Locator } from "@playwright/test";
import { breakWorkspace, callApi, cli, collectPageErrors, componentWithCheckpoint, corruptStoredObject, hashTree, signIn } from "./support";

async function rollBackOverApi(checkpointId: string): Promise<{ rollbackId: string; safetyCheckpointId: string }> {
  const plan = await callApi<{ confirmToken: string }>("rollback.plan", { checkpointId });
  return callApi("rollback.execute", { checkpointId, confirmToken: plan.confirmToken });
}

function dialogTitle(dialog: Locator): Locator {
  return dialog.getByTestId("rollback-dialog-title");
}

test("the timeline's Undo opens the Undo rollback dialog; afterwards the undo and the undone rollback say so everywhere, and the status is not rolled-back", async ({ page }) => {
  const pageErrors = collectPageErrors(page);
  const { name, root, checkpoint } = await componentWithCheckpoint("undo-words");
  breakWorkspace(root);
  const broken = hashTree(root);
  const rollback = await rollBackOverApi(checkpoint.id);

  await signIn(page);
  const overviewRow = page.getByRole("row", { name: new RegExp(name) });
  await expect(overviewRow).toContainText("rolled-back");
  await page.goto(`/components/${name}`);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("rolled-back");
  const undone = page.locator(`[data-testid="timeline-rollback"][data-rollback-id="${rollback.rollbackId}"]`);
  await expect(undone.getByTestId("rollback-label")).toContainText(`Rollback to ${checkpoint.id}`);
  await undone.getByRole("button", { name: "Undo…" }).click();
  const dialog = page.getByRole("alertdialog");
  await expect(dialogTitle(dialog)).toHaveText(`Undo rollback ${rollback.rollbackId} of ${name}?`);
  await dialog.getByRole("button", { name: /^Confirm: undo/ }).click();
  await expect(dialog.getByTestId("rollback-result")).toBeVisible();
  await expect(dialogTitle(dialog)).toHaveText(`Undid ${rollback.rollbackId}`);
  expect(hashTree(root)).toEqual(broken);
  await dialog.getByRole("button", { name: "Close" }).click();

  // The undone rollback: who undid it and when, no Undo any more.
  await expect(undone).toHaveAttribute("data-undone", "true");
  await expect(undone.getByTestId("undone-by")).toContainText(/undone by rb_\S+ at /);
  await expect(undone.getByRole("button", { name: "Undo…" })).toHaveCount(0);
  // The undo: named by what it undid, not by the safety checkpoint it went to.
  const undo = page.locator('[data-testid="timeline-rollback"]:not([data-undone="true"])');
  await expect(undo).toHaveCount(1);
  const undoId = await undo.getAttribute("data-rollback-id");
  expect(undoId).not.toBe(rollback.rollbackId);
  await expect(undo.getByTestId("rollback-label")).toContainText(`Undo of ${rollback.rollbackId}`);
  await expect(undo.getByTestId("rollback-label")).not.toContainText("Rollback to");
  await expect(undone.getByTestId("undone-by")).toContainText(undoId as string);
  // The component is back as before the rollback, and its status says so.
  await expect(page.getByRole("heading", { level: 1 })).not.toContainText("rolled-back");
  await expect(page.getByTestId("rolled-back-note")).toHaveCount(0);
  // So does the overview.
  await page.goto("/");
  await expect(overviewRow).toBeVisible();
  await expect(overviewRow).not.toContainText("rolled-back");
  await expect(overviewRow.getByTestId("rolled-back-note")).toHaveCount(0);

  // The history says the same, and the undone rollback's row offers no Undo.
  await page.goto(`/history?component=${name}&kind=rollback`);
  const table = page.getByTestId("history-table");
  const undoneRow = table.locator(`tr[id="${rollback.rollbackId}"]`);
  await expect(undoneRow.getByTestId("undone-by")).toContainText(undoId as string);
  await expect(undoneRow.getByRole("button", { name: "Undo…" })).toHaveCount(0);
  await expect(table.locator(`tr[id="${undoId}"]`).getByTestId("history-undo-of")).toHaveText(`Undo of ${rollback.rollbackId}`);

  // The safety checkpoint's page names the rollback and who undid it.
  await page.goto(`/checkpoints/${rollback.safetyCheckpointId}`);
  await expect(page.getByTestId("safety-undone")).toContainText(`That rollback was undone by ${undoId}`);

  // A rollback id links to its record: the timeline filtered to it.
  await page.goto(`/history?component=${name}&kind=rollback`);
  await table.locator(`tr[id="${undoId}"]`).getByTestId("history-undo-of").getByRole("link").click();
  await expect(page).toHaveURL(new RegExp(`/components/${name}\\?q=${rollback.rollbackId}#${rollback.rollbackId}$`));
  await expect(page.locator(`[data-testid="timeline-rollback"][data-rollback-id="${rollback.rollbackId}"]`)).toBeVisible();
  expect(pageErrors).toEqual([]);
});

test("a result dialog's title says what happened, and its Undo is the same Undo rollback dialog", async ({ page }) => {
  const { name, root, checkpoint } = await componentWithCheckpoint("undo-result");
  breakWorkspace(root);
  await signIn(page);
  await page.goto(`/components/${name}`);
  await page.locator(`[data-testid="timeline-item"][data-checkpoint-id="${checkpoint.id}"]`).getByRole("button", { name: "Roll back…" }).click();
  const dialog = page.getByRole("alertdialog");
  await expect(dialogTitle(dialog)).toHaveText(new RegExp(`^Roll back ${name} to .*\\?$`));
  await dialog.getByRole("button", { name: /^Confirm: roll back/ }).click();
  await expect(dialog.getByTestId("rollback-result")).toBeVisible();
  await expect(dialogTitle(dialog)).toHaveText(new RegExp(`^Rolled back ${name} to `));
  const rollbackId = await page.locator('[data-testid="timeline-rollback"]').first().getAttribute("data-rollback-id");
  await dialog.getByRole("button", { name: "Undo this rollback" }).click();
  await expect(dialogTitle(dialog)).toHaveText(`Undo rollback ${rollbackId} of ${name}?`);
  await dialog.getByRole("button", { name: "Cancel" }).click();
});

test("alarms link to what they count: damaged checkpoints, refused rollbacks apart from failed ones", async ({ page }) => {
  const { name, root, checkpoint } = await componentWithCheckpoint("undo-alarms");
  const repair = corruptStoredObject("# greeting\n\nSays hello.\n");
  try {
    expect((await callApi<{ state: string }>("checkpoint.verify", { id: checkpoint.id })).state).toBe("corrupt");
    // A second, healthy checkpoint (without the damaged file).
    writeFileSync(path.join(root, "README.md"), "# greeting, rewritten\n");
    const healthy = await callApi<{ id: string }>("checkpoint.create", { component: name, reason: "healthy" });

    // A rollback refused by a stale confirmation: the workspace changed after the plan.
    const plan = await callApi<{ confirmToken: string }>("rollback.plan", { checkpointId: healthy.id });
    writeFileSync(path.join(root, "config.json"), "{}\n");
    await expect(callApi("rollback.execute", { checkpointId: healthy.id, confirmToken: plan.confirmToken })).rejects.toThrow(/confirmToken/);

    // A rollback to the damaged checkpoint, from a terminal: refused for integrity (exit 4) before any change.
    expect(cli(["rollback", checkpoint.id, "--yes"]).status).toBe(4);

    await signIn(page);
    const row = page.getByRole("row", { name: new RegExp(name) });
    await expect(row.getByTestId("refused-link")).toHaveText("2 refused");
    await expect(row.getByTestId("failed-link")).toHaveCount(0);
    // Each row's drift arrives on its own and changes the row's height: click once the table has settled.
    await expect(page.getByText("Comparing with the last checkpoint…")).toHaveCount(0);
    await row.getByTestId("damage-link").click();
    await expect(page).toHaveURL(new RegExp(`/components/${name}\\?damaged=1$`));
    await expect(page.getByTestId("damaged-view")).toBeVisible();
    await expect(page.getByTestId("timeline-item")).toHaveCount(1);
    await expect(page.locator(`[data-testid="timeline-item"][data-checkpoint-id="${checkpoint.id}"]`)).toBeVisible();
    await page.getByRole("link", { name: "Show the whole timeline" }).click();
    await expect(page.getByTestId("timeline-item")).toHaveCount(2);
    // The timeline says the refused rollback was refused (nothing changed), not that it failed.
    const refusedEntry = page.locator('[data-testid="timeline-rollback"][data-failure="refused"]');
    await expect(refusedEntry.getByTestId("rollback-label")).toContainText("refused");

    await page.goto("/");
    // The summary counts refusals apart too (the refusal for damaged data has a rollback row, yet is no failure).
    await expect(page.getByTestId("refused-rollbacks-link")).toHaveText(/^\d+ refused$/);
    await expect(page.getByTestId("refused-rollbacks-link")).toHaveAttribute("href", "/history?kind=rollback&outcome=failed&failure=refused");
    // Each row's drift arrives on its own and changes the row's height: click once the table has settled.
    await expect(page.getByText("Comparing with the last checkpoint…")).toHaveCount(0);
    await page.getByRole("row", { name: new RegExp(name) }).getByTestId("refused-link").click();
    await expect(page).toHaveURL(/outcome=failed&failure=refused$/);
    const rows = page.getByTestId("history-table").locator("tbody tr[data-kind]");
    await expect(rows).toHaveCount(2);
    for (const refusedRow of await rows.all()) {
      await expect(refusedRow).toHaveAttribute("data-failure", "refused");
      await expect(refusedRow.getByRole("cell").nth(4)).toHaveText("refused");
    }
    await expect(page.getByLabel("Failed rollbacks")).toHaveValue("refused");
  } finally {
    repair();
  }
});

test("a rollback that ran and failed is counted as failed per component and in the summary, and each count opens the history filtered to it", async ({ page }) => {
  const { name, root, checkpoint } = await componentWithCheckpoint("alarm-failed");
  breakWorkspace(root);
  // The rollback's first change in the workspace fails with EIO (test/support/fault-seam.mjs): it ran, then failed.
  const failed = cli(["rollback", checkpoint.id, "--yes"], { fault: { after: 1, mode: "eio", under: root } });
  expect(failed.status, failed.stderr).not.toBe(0);
  expect(failed.stderr).toMatch(/EIO/);

  await signIn(page);
  const row = page.getByRole("row", { name: new RegExp(name) });
  await expect(row.getByTestId("failed-link")).toHaveText("1 rollback failed");
  await expect(row.getByTestId("refused-link")).toHaveCount(0);
  const summaryLink = page.getByTestId("failed-rollbacks-link");
  await expect(summaryLink).toHaveText(/^\d+ failed$/);
  await expect(summaryLink).toHaveAttribute("href", "/history?kind=rollback&outcome=failed&failure=ran");

  // Each row's drift arrives on its own and changes the row's height: click once the table has settled.
  await expect(page.getByText("Comparing with the last checkpoint…")).toHaveCount(0);
  await row.getByTestId("failed-link").click();
  await expect(page).toHaveURL(new RegExp(`/history\\?component=${name}&kind=rollback&outcome=failed&failure=ran$`));
  await expect(page.getByLabel("Failed rollbacks")).toHaveValue("ran");
  const rows = page.getByTestId("history-table").locator("tbody tr[data-kind]");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute("data-kind", "rollback");
  await expect(rows.first()).toHaveAttribute("data-outcome", "failed");
  await expect(rows.first()).toHaveAttribute("data-failure", "ran");
  await expect(rows.first()).toContainText(`to ${checkpoint.id}`);

  // The summary's count opens the same filter over every component.
  await page.goto("/");
  await summaryLink.click();
  await expect(page).toHaveURL(/\/history\?kind=rollback&outcome=failed&failure=ran$/);
  await expect(rows.filter({ hasText: name })).toHaveCount(1);
  for (const failedRow of await rows.all()) await expect(failedRow).toHaveAttribute("data-failure", "ran");
});
