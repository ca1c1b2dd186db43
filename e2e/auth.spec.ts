import { expect, test } from "@playwright/test";
import { callApi, componentWithCheckpoint, signIn, uniqueName } from "./support";

test("an unauthenticated visit goes to the sign-in page (remembering the page), never to raw 401 text", async ({ page }) => {
  for (const url of ["/", "/history", "/components/anything", "/checkpoints/cp_unknown", "/retention", "/tokens"]) {
    await page.goto(url);
    await expect(page).toHaveURL(url === "/" ? /\/login$/ : new RegExp(`/login\\?next=${encodeURIComponent(url)}$`));
    await expect(page.getByLabel("Token or login code")).toBeVisible();
    await expect(page.getByText(/401/)).toHaveCount(0);
  }
});

test("a viewer token sees checkpoints but the page says its role is too low to roll back", async ({ page }) => {
  const { checkpoint } = await componentWithCheckpoint("web-viewer");
  const viewer = await callApi<{ token: string }>("auth.createToken", { name: uniqueName("viewer"), role: "viewer" });
  await signIn(page, viewer.token);
  await page.goto(`/checkpoints/${checkpoint.id}`);
  await expect(page.getByRole("heading", { name: checkpoint.id })).toBeVisible();
  await expect(page.getByRole("button", { name: "Roll back…" })).toBeDisabled();
  await expect(page.getByRole("button", { name: "Pin" })).toBeDisabled();
  await expect(page.getByText("Rolling back needs the agent role or higher; your token has viewer.")).toBeVisible();
});

test("signing out ends the session", async ({ page }) => {
  await signIn(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
});
