/**
 * Retention and tokens in the browser, and what a session looks like when it ends,
 * when the server cannot be reached, or when a token may not act on a component.
 */
import { expect, test } from "@playwright/test";
import { adminToken, BASE_URL, callApi, componentWithCheckpoint, keepScreenshot, signIn, uniqueName } from "./support";

test("retention: a validated policy form, a preview of the next run with its reasons, then run now and the run in the last runs", async ({ page }) => {
  const { name } = await componentWithCheckpoint("web-retention");
  // Four more whose own retention is already over: keepLast 2 keeps the newest two of them, the other two expire.
  for (let i = 0; i < 4; i++) await callApi("checkpoint.create", { component: name, reason: `short-lived ${i}`, retentionDays: 0 });

  await signIn(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Retention" }).click();
  await expect(page.getByRole("heading", { name: "Retention", level: 1 })).toBeVisible();

  const form = page.getByRole("form", { name: "Edit a retention policy" });
  await form.getByLabel("Policy of").selectOption(`component:${name}`);
  // A policy that keeps nothing is refused, naming why.
  await form.getByLabel(/^Keep last/).fill("0");
  await form.getByRole("button", { name: "Save policy" }).click();
  await expect(form.getByTestId("policy-error")).toContainText("keeps nothing");
  await form.getByLabel(/^Keep last/).fill("2");
  await form.getByRole("button", { name: "Save policy" }).click();
  await expect(form.getByTestId("policy-saved")).toContainText(`keep last 2 for component ${name}`);
  await expect(page.getByTestId("retention-policies").getByRole("row", { name: new RegExp(name) })).toContainText("keep last 2");

  await page.getByRole("button", { name: "Preview the next run" }).click();
  const preview = page.getByTestId("retention-preview");
  await expect(preview.getByTestId("expire-list")).toContainText(name);
  await expect(preview.getByTestId("expire-list")).toContainText("retention-until");
  await expect(preview.getByTestId("expire-list").getByRole("listitem").filter({ hasText: name })).toHaveCount(2);
  await preview.getByText(/^Would keep/).click();
  await expect(preview.getByTestId("keep-list").getByRole("listitem").filter({ hasText: name }).first()).toContainText(/newest|keep-last/);
  await keepScreenshot(page, "retention");

  await page.getByRole("button", { name: /^Run now: expire/ }).click();
  const result = page.getByTestId("retention-result");
  await expect(result).toBeVisible();
  await expect(page.getByText(/^Retention ran in/)).toBeVisible();
  await expect(page.getByTestId("retention-runs").getByTestId("retention-run").first()).toContainText("expired");
  await expect(page.getByTestId("retention-runs").getByTestId("retention-run").first()).toContainText("by token:admin");
  const left = await callApi<{ items: { component: string; status: string }[] }>("checkpoint.list", { component: name }, { method: "query" });
  // The first checkpoint (its own 7 days not over) and the newest two stay.
  expect(left.items.filter((c) => c.status === "active")).toHaveLength(3);
});

test("tokens: an admin creates one (shown once, with copy) and revokes it; the revoked token's browser session ends and the header says so", async ({ page, browser, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const name = uniqueName("ci-bot");
  await signIn(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Tokens" }).click();
  const form = page.getByRole("form", { name: "Create a token" });
  await form.getByLabel(/^Name/).fill(name);
  await form.getByLabel("Role").selectOption("agent");
  await form.getByRole("button", { name: "Create token" }).click();
  const created = page.getByTestId("created-token");
  await expect(created).toContainText("it is shown once");
  const secret = (await created.getByTestId("token-secret").textContent())?.trim() ?? "";
  expect(secret).toMatch(/^sn_/);
  await created.getByRole("button", { name: "Copy the new token" }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await keepScreenshot(page, "tokens");
  const row = page.locator(`[data-testid="token-row"][data-token-name="${name}"]`);
  await expect(row).toContainText("agent");
  // The secret is never listed again.
  await page.reload();
  await expect(page.getByText(secret)).toHaveCount(0);

  // Someone signs in with it in another browser.
  const other = await browser.newContext();
  const agentPage = await other.newPage();
  await signIn(agentPage, secret);
  await expect(agentPage.getByTestId("session-badge")).toContainText(`${name} · agent`);

  await row.getByRole("button", { name: "Revoke…" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Revoke" }).click();
  await expect(row).toHaveAttribute("data-revoked", "true");
  await expect(row).toContainText("revoked");

  // Its next request is refused: the header and one banner say the session ended, with a way back in.
  await agentPage.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "History" }).click();
  await expect(agentPage).toHaveURL(/\/login\?next=%2Fhistory&reason=expired$/);
  await expect(agentPage.getByTestId("session-expired")).toContainText("Your session ended");
  await other.close();
});

test("a session revoked while a page is open updates the header in place, at the page's next poll", async ({ page }) => {
  const token = await callApi<{ name: string; token: string }>("auth.createToken", { name: uniqueName("viewer"), role: "viewer" });
  const { checkpoint } = await componentWithCheckpoint("web-revoke");
  await signIn(page, token.token);
  await page.goto(`/checkpoints/${checkpoint.id}`);
  await expect(page.getByTestId("session-badge")).toHaveAttribute("data-session", "active");

  await callApi("auth.revokeToken", { name: token.name });
  // No click: the page's own polling (every second) meets the 401.
  await expect(page.getByTestId("session-badge")).toHaveAttribute("data-session", "ended");
  await expect(page.getByTestId("session-ended-banner")).toContainText("Your session ended");
  await expect(page.getByTestId("session-ended-banner").getByRole("link", { name: "Sign in again" })).toHaveAttribute(
    "href",
    `/login?reason=expired&next=${encodeURIComponent(`/checkpoints/${checkpoint.id}`)}`,
  );
  await expect(page.getByText("401 UNAUTHORIZED")).toHaveCount(0);
});

test("a deep link asked for while signed out opens after sign-in", async ({ page }) => {
  const { name } = await componentWithCheckpoint("web-deep");
  const wanted = `/components/${name}?q=TASK-42`;
  await page.goto(wanted);
  await expect(page).toHaveURL(`${BASE_URL}/login?next=${encodeURIComponent(wanted)}`);
  await expect(page.getByText("Sign in to open")).toContainText(wanted);
  await expect(page.getByText(/401/)).toHaveCount(0);
  await page.getByLabel("Token or login code").fill(adminToken());
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(`${BASE_URL}${wanted}`);
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  await expect(page.getByLabel("Filter by reason, agent, task or id")).toHaveValue("TASK-42");
});

test("a token limited to other components is told it may not act on this one (not that its role is too low)", async ({ page }) => {
  const { name } = await componentWithCheckpoint("web-scope-a");
  const other = await componentWithCheckpoint("web-scope-b");
  const scoped = await callApi<{ token: string }>("auth.createToken", { name: uniqueName("scoped"), role: "operator", components: [other.name] });
  await signIn(page, scoped.token);
  await page.goto(`/components/${name}`);
  await expect(page.getByRole("heading", { name: `This token may not act on component ${name}` })).toBeVisible();
  await expect(page.getByText(/role is too low/)).toHaveCount(0);
});

test("an unreachable server shows one banner with Retry, and Retry brings the page back", async ({ page }) => {
  const { checkpoint } = await componentWithCheckpoint("web-offline");
  await signIn(page);
  await page.goto(`/checkpoints/${checkpoint.id}`);
  await expect(page.getByRole("heading", { name: "Diff against live" })).toBeVisible();

  await page.route("**/api/trpc/**", (route) => route.abort("connectionrefused"));
  await page.getByRole("button", { name: "Compare again" }).click();
  const banner = page.getByTestId("unreachable-banner");
  await expect(banner).toContainText("Cannot reach the Safety Net server");
  await expect(page.getByTestId("unreachable-banner")).toHaveCount(1);
  await keepScreenshot(page, "unreachable", { fullPage: false });

  await page.unroute("**/api/trpc/**");
  await banner.getByRole("button", { name: "Retry" }).click();
  await expect(page.getByTestId("unreachable-banner")).toHaveCount(0);
  await expect(page.getByText(/unchanged/).first()).toBeVisible();
});
