/**
 * Times in the browser's zone: a browser in India (UTC+5:30) sees a checkpoint
 * taken at 23:30 UTC on 24 November at 05:00 on the 25th, under the 25th; the
 * tooltip keeps the exact UTC instant; the header's UTC toggle switches every time
 * and day on the page, is kept across reloads (the server renders it, so nothing
 * flashes) and back; exports stay UTC whatever the console shows.
 */
import path from "node:path";
import { writeFileSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { callApi, collectPageErrors, componentWithCheckpoint, keepScreenshot, moveCheckpointInTime, signIn } from "./support";

test.use({ timezoneId: "Asia/Kolkata" });

const LATE_UTC = "2026-11-24T23:30:00.000Z"; // 05:00 on 25 November in India
const NOON_UTC = "2026-11-24T12:00:00.000Z"; // 17:30 on 24 November in India

async function twoCheckpointsAcrossMidnight() {
  const { name, root, checkpoint } = await componentWithCheckpoint("local-time");
  writeFileSync(path.join(root, "config.json"), '{ "retries": 7 }\n');
  const late = await callApi<{ id: string }>("checkpoint.create", { component: name, reason: "late in the UTC day" });
  moveCheckpointInTime(checkpoint.id, NOON_UTC);
  moveCheckpointInTime(late.id, LATE_UTC);
  return { name, noonId: checkpoint.id, lateId: late.id };
}

const card = (page: Page, id: string) => page.locator(`[data-testid="timeline-item"][data-checkpoint-id="${id}"]`);
const dayOf = (page: Page, id: string) => page.locator(`[data-testid="timeline-day"]:has([data-checkpoint-id="${id}"])`);

test("card times and day groups in local time with the UTC instant in the tooltip; the UTC toggle switches them and is kept across reloads", async ({ page }) => {
  const { name, noonId, lateId } = await twoCheckpointsAcrossMidnight();
  const errors = collectPageErrors(page);
  await signIn(page);
  await page.goto(`/components/${name}`);

  const lateTime = card(page, lateId).locator("h3 time");
  await expect(lateTime).toHaveText(/^2026-11-25 05:00:00 GMT\+5:30/);
  await expect(lateTime).toHaveAttribute("title", `${LATE_UTC} (UTC)`);
  await expect(card(page, noonId).locator("h3 time")).toHaveText(/^2026-11-24 17:30:00 GMT\+5:30/);
  // Two local days, each with its own count (counted by the server in the browser's zone).
  await expect(dayOf(page, lateId)).toHaveAttribute("data-day", "2026-11-25");
  await expect(dayOf(page, noonId)).toHaveAttribute("data-day", "2026-11-24");
  await expect(dayOf(page, lateId).locator("h3").first()).toContainText("Wednesday 25 Nov 2026");
  await expect(dayOf(page, lateId).locator("h3").first()).toContainText("1 checkpoint");
  await expect(page.getByRole("button", { name: "Local" })).toHaveAttribute("aria-pressed", "true");
  await keepScreenshot(page, "timeline-local-time", { fullPage: false });

  // The date jump reads the time in the browser's zone: 05:00 on the 25th in India is the late checkpoint.
  await page.getByLabel("Jump to date and time").fill("2026-11-25T05:00");
  await page.getByRole("button", { name: "Go" }).click();
  await expect(page).toHaveURL(/at=2026-11-24T23%3A30%3A00.000Z/);
  await expect(page.locator("[data-timeline-row]").first()).toBeFocused();
  await expect(page.locator("[data-timeline-row]").first()).toHaveAttribute("data-row-checkpoint-id", lateId);
  // A day from the list ends at that local midnight: the 24th in India ends at 18:29:59.999 UTC.
  await page.getByLabel("Jump to day").selectOption("2026-11-24");
  await expect(page).toHaveURL(/at=2026-11-24T18%3A29%3A59.999Z/);
  await expect(page.getByTestId("timeline-item").first()).toHaveAttribute("data-checkpoint-id", noonId);
  // An older link naming a day (`?day=`) opens at the end of that day in the browser's zone too.
  await page.goto(`/components/${name}?day=2026-11-24`);
  await expect(page.getByTestId("timeline-item").first()).toHaveAttribute("data-checkpoint-id", noonId);
  await expect(page.getByTestId("timeline-day").first()).toHaveAttribute("data-day", "2026-11-24");
  await page.getByRole("link", { name: "Back to the newest" }).click();
  await expect(card(page, lateId)).toBeVisible();

  // UTC: both on the 24th.
  await page.getByRole("button", { name: "UTC" }).click();
  await expect(lateTime).toHaveText(/^2026-11-24 23:30:00 UTC/);
  await expect(dayOf(page, lateId)).toHaveAttribute("data-day", "2026-11-24");
  await expect(dayOf(page, noonId)).toHaveAttribute("data-day", "2026-11-24");
  await expect(dayOf(page, lateId).locator("h3").first()).toContainText("2 checkpoints");
  await expect(page.getByLabel("Jump to date and time")).toBeVisible();
  await expect(page.locator('label[for="timeline-at"]')).toContainText("(UTC)");

  // Kept: the server renders UTC for this browser now, and the page after a reload shows it at once.
  const html = await (await page.request.get(`/components/${name}`)).text();
  expect(html).toContain("2026-11-24 23:30:00 UTC");
  expect(html).not.toContain("GMT+5:30");
  await page.reload();
  await expect(page.getByRole("button", { name: "UTC" })).toHaveAttribute("aria-pressed", "true");
  await expect(lateTime).toHaveText(/^2026-11-24 23:30:00 UTC/);

  // Back to local time, rendered by the server too (it knows the browser's zone from its cookie).
  await page.getByRole("button", { name: "Local" }).click();
  await expect(lateTime).toHaveText(/^2026-11-25 05:00:00 GMT\+5:30/);
  const localHtml = await (await page.request.get(`/components/${name}`)).text();
  expect(localHtml).toContain("2026-11-25 05:00:00 GMT+5:30");
  await page.reload();
  await expect(lateTime).toHaveText(/^2026-11-25 05:00:00 GMT\+5:30/);
  expect(errors).toEqual([]);
});

test("the history's day range is in local days, and its export stays in UTC while the console shows local time", async ({ page }) => {
  const { name, noonId, lateId } = await twoCheckpointsAcrossMidnight();
  await signIn(page);
  await page.goto(`/history?component=${name}`);
  await expect(page.getByRole("button", { name: "Local" })).toHaveAttribute("aria-pressed", "true");
  const lateEvent = page.locator(`time[datetime="${LATE_UTC}"]:visible`).first();
  await expect(lateEvent).toHaveAttribute("title", /^2026-11-25 05:00:00 GMT\+5:30\n2026-11-24T23:30:00.000Z \(UTC\)$/);

  // 25 November in India: the late checkpoint (23:30 UTC on the 24th) is in it, the one of noon UTC is not.
  await page.getByLabel(/^From \(Asia\/(Kolkata|Calcutta) day\)$/).fill("2026-11-25");
  await page.getByLabel(/^To \(Asia\/(Kolkata|Calcutta) day, inclusive\)$/).fill("2026-11-25");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/from=2026-11-25/);
  await expect(page.locator(`time[datetime="${LATE_UTC}"]:visible`).first()).toBeVisible();
  await expect(page.locator(`time[datetime="${NOON_UTC}"]`)).toHaveCount(0);

  // The export of that range: the same events, every time in UTC.
  const href = await page.getByTestId("export-csv").getAttribute("href");
  expect(href).toContain(`since=${encodeURIComponent("2026-11-24T18:30:00.000Z")}`);
  const csv = await (await page.request.get(href ?? "")).text();
  const lateRow = csv.split("\n").find((line) => line.includes(lateId) && line.includes("checkpoint.create"));
  expect(lateRow).toContain(LATE_UTC);
  expect(csv).not.toContain(noonId);
  expect(csv).not.toContain("GMT+5:30");
  expect(csv).not.toContain("2026-11-25 05:00");
});
