/**
 * A rollback left pending by a full disk, seen from the console: the dialog's
 * refusal says the rollback is still pending (partly applied, journaled) and what
 * completes it, with the server's message in full, never "Nothing was changed".
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { callApi, cli, hashTree, signIn, uniqueName, WORKSPACE } from "./support";

const canMount = typeof process.getuid === "function" && process.getuid() === 0 && process.platform === "linux";

test.skip(!canMount, "mounting a tiny tmpfs to make a full disk needs root on Linux");

test("a rollback refused because an earlier one stopped part-way on a full disk says it is still pending and how to complete it", async ({ page }) => {
  const name = uniqueName("web-pending");
  const root = path.join(WORKSPACE, name);
  mkdirSync(root);
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", root]);
  const filler = path.join(root, "node_modules", "filler.bin");
  try {
    for (const f of ["a", "b", "c"]) writeFileSync(path.join(root, `${f}.txt`), `${f}1\n`);
    await callApi("component.upsert", { name, root });
    const checkpoint = await callApi<{ id: string }>("checkpoint.create", { component: name });
    const original = hashTree(root);
    for (const f of ["a", "b", "c"]) writeFileSync(path.join(root, `${f}.txt`), `${f}2, by the agent\n`);
    // The CLI's own rollback (not handed to the server) stops when the disk "fills up" at b.txt
    // (test/support/fault-seam.mjs): a.txt is back, b.txt and c.txt are not, and it is journaled.
    const stopped = cli(["rollback", checkpoint.id, "--yes"], { fault: { after: 4, mode: "enospc", under: root } });
    expect(stopped.status, stopped.stderr).toBe(1);
    expect(stopped.stderr).toMatch(/stopped part-way while restoring b\.txt/);
    // Then the disk is really full: completing it is refused until space is freed.
    mkdirSync(path.dirname(filler));
    const { bavail, bsize } = statfsSync(root);
    writeFileSync(filler, Buffer.alloc(bavail * bsize));

    await signIn(page);
    await page.goto(`/checkpoints/${checkpoint.id}`);
    await page.getByRole("button", { name: "Roll back…" }).click();
    const dialog = page.getByRole("alertdialog");
    await dialog.getByRole("button", { name: /^Confirm/ }).click();

    const refusal = dialog.getByTestId("rollback-error");
    await expect(refusal).toContainText("Refused: an interrupted rollback of this component is still pending");
    await expect(refusal).toContainText("409 CONFLICT");
    await expect(refusal).toContainText(`that could not be completed: not enough free space in ${root}`);
    await expect(refusal).toContainText("it is still pending: the rollback is partly applied (1 of 3 changes made when it stopped) and journaled");
    const advice = dialog.getByTestId("rollback-error-advice");
    await expect(advice).toContainText("The workspace is partly rolled back, and the rollback is journaled");
    await expect(advice).toContainText("then run npx safetynet recover on the server's data directory");
    await expect(refusal).not.toContainText(/nothing was changed/i);

    // Space freed: the next change to the component completes the rollback exactly.
    rmSync(path.dirname(filler), { recursive: true });
    await callApi("checkpoint.create", { component: name });
    expect(hashTree(root)).toEqual(original);
  } finally {
    rmSync(path.dirname(filler), { recursive: true, force: true });
    execFileSync("umount", ["-l", root]);
  }
});
