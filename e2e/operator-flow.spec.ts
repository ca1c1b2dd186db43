import path from "node:path";
import { writeFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { breakWorkspace, collectPageErrors, componentWithCheckpoint, hashTree, signIn } from "./support";

test.describe("operator rollback flow in the dashboard", () => {
  test("signs in, reads the timeline and the diff, rolls back through the confirm dialog, and the files on disk are restored", async ({ page }) => {
    const pageErrors = collectPageErrors(page);
    const { name, root, checkpoint } = await componentWithCheckpoint("web-flow");
    const before = hashTree(root);
    breakWorkspace(root);
    expect(hashTree(root)).not.toEqual(before);

    await signIn(page);

    // Overview: the component is listed with its checkpoint count.
    const row = page.getByRole("row", { name: new RegExp(name) });
    await expect(row).toBeVisible();
    await expect(row.getByRole("cell").nth(2)).toHaveText("1"); // root, status, checkpoints, last checkpoint
    await expect(page.getByRole("region", { name: "Summary" })).toContainText("Storage used");
    await page.screenshot({ path: "test-results/screenshots/operator-overview.png", fullPage: true });
    await row.getByRole("link", { name }).click();

    // Timeline: the checkpoint with its reason, agent, task and checksum badge.
    await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
    const item = page.getByTestId("timeline-item").first();
    await expect(item).toContainText("before the agent refactors greeting");
    await expect(item).toContainText("refactor-bot");
    await expect(item).toContainText("TASK-42");
    await expect(item).toContainText(checkpoint.manifestSha256.slice(0, 12));
    await expect(item.locator("[data-verify-state]")).toHaveAttribute("data-verify-state", "unverified");
    // The timeline comes first: the component's facts and metadata document are folded until asked for.
    await expect(page.getByText("platform-team")).toBeHidden();
    await page.getByText("Facts and metadata").click();
    await expect(page.getByText("platform-team")).toBeVisible(); // the component's metadata document
    await page.screenshot({ path: "test-results/screenshots/operator-timeline.png", fullPage: true });

    // Checkpoint detail: the diff against the live workspace.
    await item.getByRole("link", { name: new RegExp(checkpoint.id) }).click();
    await expect(page.getByRole("heading", { name: checkpoint.id })).toBeVisible();
    const diff = page.locator("section", { has: page.getByRole("heading", { name: "Diff against live" }) });
    await expect(diff.getByText("2 modified")).toBeVisible();
    await expect(diff.getByText("3 added")).toBeVisible(); // src/farewell.ts, notes/ and notes/agent-scratch.md
    await expect(diff.getByText("1 deleted")).toBeVisible();
    const patch = diff.getByTestId("diff-file").filter({ hasText: "src/greeting.ts" });
    await expect(patch.locator('[data-line="removed"]', { hasText: "return `Hello, ${name}!`;" })).toBeVisible();
    await expect(patch.locator('[data-line="added"]', { hasText: 'return "hi " + name;' })).toBeVisible();
    await page.screenshot({ path: "test-results/screenshots/checkpoint-diff.png", fullPage: true });

    // Verify: the badge turns to verified.
    await page.getByRole("button", { name: "Verify" }).click();
    await expect(page.getByTestId("verify-result")).toContainText("Verified");
    await expect(page.locator("header [data-verify-state]")).toHaveAttribute("data-verify-state", "verified");

    // Roll back…: the dialog shows the exact plan before anything changes.
    await page.getByRole("button", { name: "Roll back…" }).click();
    const dialog = page.getByRole("alertdialog");
    await expect(dialog).toBeVisible();
    await expect(dialog.getByTestId("rollback-plan")).toBeVisible();
    await expect(dialog.getByTestId("plan-restore-count")).toHaveText("3");
    await expect(dialog.getByTestId("plan-delete-count")).toHaveText("3");
    const restoreList = dialog.locator("section", { has: page.getByRole("heading", { name: /Restored from the checkpoint/ }) });
    await expect(restoreList.getByRole("listitem").filter({ hasText: "src/greeting.ts" })).toContainText("overwrite");
    await expect(restoreList.getByRole("listitem").filter({ hasText: "README.md" })).toContainText("recreate");
    const deleteList = dialog.locator("section", { has: page.getByRole("heading", { name: /^Deleted/ }) });
    await expect(deleteList).toContainText("src/farewell.ts");
    await expect(deleteList).toContainText("notes/agent-scratch.md");
    await expect(dialog.getByTestId("plan-expiry")).toContainText("expires at");
    // Nothing has changed yet.
    expect(hashTree(root)).not.toEqual(before);
    await page.screenshot({ path: "test-results/screenshots/operator-rollback-dialog.png" });

    await dialog.getByRole("button", { name: /^Confirm/ }).click();
    const result = dialog.getByTestId("rollback-result");
    await expect(result).toContainText("Rolled back in");
    await expect(result).toContainText("3 restored · 3 deleted");
    await page.screenshot({ path: "test-results/screenshots/rollback-done.png" });

    // Every byte is back, and the files the agent created are gone.
    const after = hashTree(root);
    expect(after).toEqual(before);
    expect(Object.keys(after)).not.toContain(path.join("src", "farewell.ts"));

    // The way back: the safety checkpoint of the state before the rollback, one click away.
    await dialog.getByRole("link", { name: /^cp_/ }).click();
    await expect(page.getByText("This is the safety checkpoint taken just before rollback")).toBeVisible();
    await expect(page.getByText("safety", { exact: true }).first()).toBeVisible();

    // No hydration mismatch or script error anywhere along the way.
    expect(pageErrors).toEqual([]);
  });

  test("a confirmation made stale by a workspace change is refused verbatim, and Plan again shows the new plan", async ({ page }) => {
    const { root, checkpoint } = await componentWithCheckpoint("web-stale");
    const before = hashTree(root);
    writeFileSync(path.join(root, "config.json"), '{ "retries": 9 }\n');

    await signIn(page);
    await page.goto(`/checkpoints/${checkpoint.id}`);
    await page.getByRole("button", { name: "Roll back…" }).click();
    const dialog = page.getByRole("alertdialog");
    await expect(dialog.getByTestId("plan-restore-count")).toHaveText("1");
    await expect(dialog.getByTestId("plan-delete-count")).toHaveText("0");

    // The agent keeps working after the plan was shown.
    writeFileSync(path.join(root, "late-file.txt"), "written after the plan\n");
    await dialog.getByRole("button", { name: /^Confirm/ }).click();
    const refusal = dialog.getByTestId("rollback-error");
    await expect(refusal).toContainText("400 BAD_REQUEST");
    await expect(refusal).toContainText("the workspace changed since the plan was made");
    await expect(dialog.getByRole("button", { name: /^Confirm/ })).toBeDisabled();
    expect(hashTree(root)["late-file.txt"]).toBeDefined();

    await dialog.getByRole("button", { name: "Plan again" }).click();
    await expect(dialog.getByTestId("rollback-error")).toHaveCount(0);
    await expect(dialog.getByTestId("plan-delete-count")).toHaveText("1");
    await expect(dialog).toContainText("late-file.txt");
    await dialog.getByRole("button", { name: /^Confirm/ }).click();
    await expect(dialog.getByTestId("rollback-result")).toContainText("1 restored · 1 deleted");
    expect(hashTree(root)).toEqual(before);

    await dialog.getByRole("button", { name: "Close" }).click();
    await expect(dialog).toBeHidden();
  });

  test("the confirm dialog works from the keyboard: Enter opens it with focus inside, Escape closes it and nothing changes", async ({ page }) => {
    const { root, checkpoint } = await componentWithCheckpoint("web-keys");
    writeFileSync(path.join(root, "config.json"), '{ "retries": 1 }\n');
    const changed = hashTree(root);
    await signIn(page);
    await page.goto(`/checkpoints/${checkpoint.id}`);
    const trigger = page.getByRole("button", { name: "Roll back…" });
    await trigger.focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("alertdialog");
    await expect(dialog.getByTestId("plan-restore-count")).toHaveText("1");
    expect(await dialog.evaluate((el) => el.contains(document.activeElement))).toBe(true);
    await page.keyboard.press("Escape");
    await expect(dialog).toBeHidden();
    await expect(trigger).toBeFocused();
    expect(hashTree(root)).toEqual(changed);
  });
});
