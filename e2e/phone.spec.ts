/**
 * At 390 px (a phone) the overview, the history, the timeline and the diff read
 * without sideways scrolling (cards instead of tables), and the header says who is
 * signed in. Dark mode follows the system.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { breakWorkspace, callApi, componentWithCheckpoint, keepScreenshot, signIn } from "./support";

test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

async function noSidewaysScroll(page: Page): Promise<void> {
  const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, viewport: window.innerWidth }));
  expect(widths.page, "the page is wider than the screen").toBeLessThanOrEqual(widths.viewport);
}

test("a phone gets cards instead of tables, no sideways scrolling, and the signed-in name in the header", async ({ page }) => {
  const { name, root, checkpoint } = await componentWithCheckpoint("web-phone");
  breakWorkspace(root);
  writeFileSync(path.join(root, "src/a-rather-long-file-name-that-would-widen-a-table-column.ts"), "export const veryLongLineOfCodeThatWouldNotFitOnAPhoneScreenWithoutWrapping = 'and it goes on and on';\n");
  const plan = await callApi<{ confirmToken: string }>("rollback.plan", { checkpointId: checkpoint.id });
  await callApi("rollback.execute", { checkpointId: checkpoint.id, confirmToken: plan.confirmToken });
  breakWorkspace(root);

  await signIn(page);
  await expect(page.getByTestId("session-badge")).toBeVisible();
  await expect(page.getByTestId("session-badge")).toContainText("admin · admin");
  await expect(page.getByTestId("component-cards")).toBeVisible();
  await expect(page.getByTestId("component-card").filter({ hasText: name })).toBeVisible();
  await expect(page.getByRole("table")).toBeHidden();
  await noSidewaysScroll(page);
  await keepScreenshot(page, "phone-overview");

  await page.goto(`/history?component=${name}`);
  await expect(page.getByTestId("history-cards")).toBeVisible();
  await expect(page.getByTestId("history-card").filter({ hasText: "rollback" }).first()).toBeVisible();
  await expect(page.getByTestId("history-table")).toBeHidden();
  await noSidewaysScroll(page);
  await keepScreenshot(page, "phone-history");

  await page.goto(`/components/${name}`);
  await expect(page.getByTestId("timeline-item").first()).toBeVisible();
  await noSidewaysScroll(page);
  await keepScreenshot(page, "phone-timeline");

  await page.goto(`/checkpoints/${checkpoint.id}`);
  const diff = page.locator("section", { has: page.getByRole("heading", { name: "Diff against live" }) });
  await expect(diff.getByTestId("diff-file").first()).toBeVisible();
  await noSidewaysScroll(page);
  await keepScreenshot(page, "phone-checkpoint");

  // The confirm dialog fits too.
  await page.getByRole("button", { name: "Roll back…" }).click();
  await expect(page.getByRole("alertdialog").getByTestId("rollback-plan")).toBeVisible();
  const box = await page.getByRole("alertdialog").boundingBox();
  expect(box && box.x >= 0 && box.x + box.width <= 390).toBe(true);
});

test("dark mode follows the system", async ({ browser }) => {
  for (const colorScheme of ["light", "dark"] as const) {
    const context = await browser.newContext({ colorScheme });
    const page = await context.newPage();
    await signIn(page);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe(colorScheme === "dark" ? "rgb(20, 20, 19)" : "rgb(247, 247, 245)");
    if (colorScheme === "dark") await keepScreenshot(page, "dark-overview");
    await context.close();
  }
});
