/**
 * Getting around a long timeline: a component with 1,000 checkpoints, the jump to
 * a date and time (it lands on, and focuses, the checkpoint at or just before it),
 * `j`/`k`/`/`/`?`, one tab stop per row (Enter opens the checkpoint, Tab walks the
 * focused row's controls, and a rollback works from the keyboard alone), compact
 * mode (kept across reloads, still with Roll back), and the timeline before the
 * component's facts.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { collectPageErrors, componentWithCheckpoint, hashTree, keepScreenshot, signIn } from "./support";
import { insertCheckpointCopies, type SeededCheckpoint } from "./timeline-seed";

test.use({ timezoneId: "UTC" });

const STEP_MS = 7 * 60_000;
let name: string;
let root: string;
let newestId: string;
let seeded: SeededCheckpoint[];

test.beforeAll(async () => {
  const made = await componentWithCheckpoint("nav-long");
  name = made.name;
  root = made.root;
  newestId = made.checkpoint.id;
  // 999 more, every 7 minutes from 1 October 2026: five days of a busy agent.
  seeded = insertCheckpointCopies(newestId, 999, "2026-10-01T00:00:00Z", STEP_MS);
});

const rows = (page: Page) => page.locator("[data-timeline-row]");
const focusedRow = (page: Page) => page.evaluate(() => document.activeElement?.closest("[data-timeline-row]")?.getAttribute("data-row-checkpoint-id") ?? null);
/** Server-rendered rows are there before the page runs; the relative times appear once it does (and the shortcuts listen). */
async function hydrated(page: Page): Promise<void> {
  await expect(rows(page).first().locator("time > span").first()).toBeVisible();
}
const focusedIsRow = (page: Page) => page.evaluate(() => document.activeElement?.hasAttribute("data-timeline-row") ?? false);

test("1,000 checkpoints: the timeline comes first, and a date-and-time jump lands on the checkpoint at that moment and focuses it", async ({ page }) => {
  const errors = collectPageErrors(page);
  await signIn(page);
  await page.goto(`/components/${name}`);
  await expect(rows(page)).toHaveCount(25);
  await hydrated(page);
  await expect(rows(page).first()).toHaveAttribute("data-row-checkpoint-id", newestId);
  // The component's facts are folded under the header; the timeline is the first thing on the page after them.
  await expect(page.getByTestId("component-facts")).not.toHaveAttribute("open");
  const timelineTop = await page.getByRole("heading", { name: "Timeline", level: 2 }).evaluate((el) => el.getBoundingClientRect().top);
  const sessionsTop = await page.getByRole("heading", { name: "Sessions", level: 2 }).evaluate((el) => el.getBoundingClientRect().top);
  expect(timelineTop).toBeLessThan(sessionsTop);
  // The day of the oldest copies counts all of that day's checkpoints, not only those loaded.
  await expect(page.getByLabel("Jump to day").locator("option", { hasText: "2026-10-02" })).toHaveText(`2026-10-02 · ${Math.ceil(1440 / 7)} checkpoints`);

  // 12:00 on 3 October: the newest copy at or before it is the one of 11:58.
  const expected = seeded.filter((c) => c.at <= "2026-10-03T12:00:00.000Z").at(-1);
  expect(expected?.at).toBe("2026-10-03T11:58:00.000Z");
  await page.getByLabel("Jump to date and time").fill("2026-10-03T12:00");
  await page.getByRole("button", { name: "Go" }).click();
  await expect(page).toHaveURL(new RegExp(`/components/${name}\\?at=2026-10-03T12%3A00%3A00.000Z$`));
  await expect(rows(page).first()).toHaveAttribute("data-row-checkpoint-id", expected?.id ?? "");
  await expect(rows(page).first()).toBeFocused();
  await expect(page.getByTestId("timeline-position")).toContainText("From 2026-10-03 12:00:00 UTC");
  await expect(page.getByTestId("timeline-day").first()).toHaveAttribute("data-day", "2026-10-03");
  await keepScreenshot(page, "timeline-jump", { fullPage: false });
  // Back to the newest.
  await page.getByRole("link", { name: "Back to the newest" }).click();
  await expect(rows(page).first()).toHaveAttribute("data-row-checkpoint-id", newestId);
  expect(errors).toEqual([]);
});

test("j and k move between rows and load older ones at the end, / focuses the filter, ? lists the shortcuts, and typing or modifiers are left alone", async ({ page }) => {
  await signIn(page);
  await page.goto(`/components/${name}`);
  await expect(rows(page)).toHaveCount(25);
  await hydrated(page);

  await page.keyboard.press("j");
  expect(await focusedRow(page)).toBe(newestId);
  await page.keyboard.press("j");
  expect(await focusedRow(page)).toBe(seeded.at(-1)?.id);
  await page.keyboard.press("k");
  expect(await focusedRow(page)).toBe(newestId);
  await page.keyboard.press("k"); // nothing above the first row
  expect(await focusedRow(page)).toBe(newestId);
  // Control+j is the browser's.
  await page.keyboard.press("Control+j");
  expect(await focusedRow(page)).toBe(newestId);

  // Down past the 25th row: the next page loads and its first row gets focus.
  for (let i = 0; i < 24; i++) await page.keyboard.press("j");
  expect(await focusedRow(page)).toBe(seeded.at(-24)?.id);
  await page.keyboard.press("j");
  await expect(rows(page)).toHaveCount(50);
  await expect.poll(() => focusedRow(page)).toBe(seeded.at(-25)?.id);
  await expect(rows(page).nth(25)).toBeInViewport();

  // `/` focuses the filter, and there `j` is a letter.
  await page.keyboard.press("/");
  const filter = page.getByLabel("Filter by reason, agent, task or id");
  await expect(filter).toBeFocused();
  await page.keyboard.type("step 0500j");
  await expect(filter).toHaveValue("step 0500j");
  await expect(filter).toBeFocused();
  await filter.fill("step 0500");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/q=step\+0500/);
  await expect(page.getByTestId("timeline-item")).toHaveCount(1);
  await expect(page.getByTestId("timeline-item")).toHaveAttribute("data-checkpoint-id", seeded[500]?.id ?? "");

  // `?` opens the list of shortcuts; Escape closes it.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press("?");
  const help = page.getByRole("dialog", { name: "Keyboard shortcuts" });
  await expect(help).toBeVisible();
  await expect(help).toContainText("next item on the timeline");
  await keepScreenshot(page, "timeline-shortcuts", { fullPage: false });
  await page.keyboard.press("j"); // the dialog owns the keyboard
  await expect(help).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(help).toBeHidden();
  // The visible button opens it too.
  await page.getByRole("button", { name: "Keyboard shortcuts" }).click();
  await expect(help).toBeVisible();
  await help.getByRole("button", { name: "Close" }).click();
  await expect(help).toBeHidden();
});

test("one tab stop per row: Tab walks only the focused row's controls, Enter opens the checkpoint, and a rollback works from the keyboard alone", async ({ page }) => {
  await signIn(page);
  await page.goto(`/components/${name}`);
  await expect(rows(page)).toHaveCount(25);
  await hydrated(page);
  const tabbableInTimeline = () =>
    page.locator("[data-timeline-row]").evaluateAll(
      (all) => all.flatMap((row) => [row, ...row.querySelectorAll<HTMLElement>("a[href], button, input, select, textarea, [tabindex]")]).filter((el) => (el as HTMLElement).tabIndex >= 0).length,
    );
  // Nothing focused in the timeline: one stop per row, no control of any row.
  expect(await tabbableInTimeline()).toBe(25);

  const first = rows(page).first();
  const second = rows(page).nth(1);
  await first.focus();
  // From the focused row, Tab goes through its own controls and then to the next row itself.
  const visited: (string | null)[] = [];
  for (let i = 0; i < 15; i++) {
    await page.keyboard.press("Tab");
    if (await focusedIsRow(page)) break;
    visited.push(await focusedRow(page));
  }
  await expect(second).toBeFocused();
  expect(visited.length).toBeGreaterThanOrEqual(3); // the time link, the id link and its copy button, Roll back…
  expect(new Set(visited)).toEqual(new Set([newestId]));
  // Shift+Tab from the second row lands on the first row, not inside it.
  await expect(second).toBeFocused();
  await page.keyboard.press("Shift+Tab");
  await expect(first).toBeFocused();

  // Enter on a row opens its checkpoint.
  await second.focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`/checkpoints/${seeded.at(-1)?.id}$`));

  // Keyboard only: j to the newest checkpoint, Tab to Roll back…, Enter, Tab to Confirm, Enter.
  const atCheckpoint = hashTree(root);
  writeFileSync(path.join(root, "config.json"), '{ "retries": 99 }\n');
  await page.goto(`/components/${name}`);
  await expect(rows(page)).toHaveCount(25);
  await hydrated(page);
  await page.keyboard.press("j");
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press("Tab");
    if ((await page.evaluate(() => document.activeElement?.textContent ?? "")).startsWith("Roll back")) break;
  }
  await expect(page.locator(":focus")).toHaveText(/^Roll back/);
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("alertdialog");
  await expect(dialog.getByTestId("plan-restore-count")).toHaveText("1");
  for (let i = 0; i < 12; i++) {
    if ((await page.evaluate(() => document.activeElement?.textContent ?? "")).startsWith("Confirm")) break;
    await page.keyboard.press("Tab");
  }
  await expect(page.locator(":focus")).toHaveText(/^Confirm/);
  await page.keyboard.press("Enter");
  await expect(dialog.getByTestId("rollback-result")).toContainText("1 restored");
  expect(hashTree(root)).toEqual(atCheckpoint);
});

test("compact mode: one dense line per checkpoint with Roll back, kept across reloads", async ({ page }) => {
  await signIn(page);
  await page.goto(`/components/${name}`);
  await expect(rows(page)).toHaveCount(25);
  await hydrated(page);
  const card = page.locator(`[data-testid="timeline-item"][data-checkpoint-id="${seeded.at(-1)?.id}"]`);
  const fullHeight = await card.evaluate((el) => el.getBoundingClientRect().height);

  await page.getByLabel("Compact: one line per checkpoint").check();
  await expect(card).toHaveAttribute("data-compact", "true");
  const compactHeight = await card.evaluate((el) => el.getBoundingClientRect().height);
  expect(compactHeight).toBeLessThan(48);
  expect(compactHeight).toBeLessThan(fullHeight / 2);
  await expect(card).toContainText("step 0998");
  await expect(card).toContainText("agent-");
  await card.scrollIntoViewIfNeeded();
  await keepScreenshot(page, "timeline-compact", { fullPage: false });

  // Kept: the server renders the compact rows on the next load (no flash of full cards).
  const html = await (await page.request.get(`/components/${name}`)).text();
  expect(html).toContain('data-compact="true"');
  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel("Compact: one line per checkpoint")).toBeChecked();
  await expect(card).toHaveAttribute("data-compact", "true");

  // Roll back from a compact row opens the same confirm dialog with the plan.
  await card.getByRole("button", { name: /^Roll back/ }).click();
  const dialog = page.getByRole("alertdialog");
  await expect(dialog.getByTestId("plan-restore-count")).toBeVisible();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();

  await page.getByLabel("Compact: one line per checkpoint").uncheck();
  await expect(card).not.toHaveAttribute("data-compact", "true");
});
