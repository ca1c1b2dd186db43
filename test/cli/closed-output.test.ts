import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { metadataEnvFor } from "../support/metadata-store";
import { objectStoreEnvFor } from "../support/object-store-location";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, makeWorkspaceDirs, runCli, runCliUnread, type WorkspaceDirs } from "../support/workspace";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

/** The CLI on the workspace's data directory, with both output pipes closed before it writes. */
const runUnread = (ws: WorkspaceDirs, args: string[]) =>
  runCliUnread(args, { SAFETYNET_DATA_DIR: ws.dataDir, SAFETYNET_ALLOWED_ROOTS: ws.base, ...metadataEnvFor(ws.dataDir), ...objectStoreEnvFor(ws.dataDir) }, ws.base);

describe("the CLI when nobody reads its output", () => {
  it("still finishes the command and exits with its own code: a checkpoint is taken, a rollback completes", async () => {
    const ws = makeWorkspaceDirs("cli-closed-output");
    fs.writeFileSync(path.join(ws.root, "a.txt"), "original\n");
    await cliJson(ws, ["component", "add", "web", "--root", ws.root]);

    expect(await runUnread(ws, ["checkpoint", "create", "web", "--reason", "piped into head"])).toEqual({ status: 0, signal: null });
    const [checkpoint] = (await cliJson<{ items: { id: string; reason: string }[] }>(ws, ["checkpoint", "list", "web"])).items;
    expect(checkpoint?.reason).toBe("piped into head");

    fs.writeFileSync(path.join(ws.root, "a.txt"), "changed by an agent\n");
    expect(await runUnread(ws, ["rollback", checkpoint?.id ?? "", "--yes"])).toEqual({ status: 0, signal: null });
    expect(fs.readFileSync(path.join(ws.root, "a.txt"), "utf8")).toBe("original\n");
    const history = (await cliJson<{ items: { kind: string; outcome: string }[] }>(ws, ["history", "web"])).items;
    expect(history.find((e) => e.kind === "rollback")?.outcome).toBe("succeeded");

    // A failing command keeps its exit code although its error message is not read either.
    const failed = await runUnread(ws, ["checkpoint", "show", "cp_does_not_exist"]);
    expect(failed.signal).toBeNull();
    expect(failed.status).toBe((await runCli(ws, ["checkpoint", "show", "cp_does_not_exist"])).status);
    expect(failed.status).not.toBe(0);
  });
});
