import { expect, test } from "@playwright/test";
import { callApi, componentWithCheckpoint, signIn, uniqueName } from "./support";

test("an unauthenticated visit shows the sign-in prompt instead of data", async ({ page }) => {
  for (const url of ["/", "/history", "/components/anything", "/checkpoints/cp_unknown"]) {
    await page.goto(url);
    await expect(page.getByRole("heading", { name: "Sign in to continue" })).toBeVisible();
    await expect(page.getByRole("main").getByRole("alert")).toContainText("401 UNAUTHORIZED");
  }
  await page.getByRole("main").getByRole("link", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByLabel("Token or login code")).toBeVisible();
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
  await expect(page.getByRole("heading", { name: "Sign in to continue" })).toBeVisible();
});
