import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { writeEdgeCaseTree } from "../../test/support/fixtures";
import {
  addComponent,
  cleanUpAfterEach,
  corruptObject,
  deleteObject,
  openWorkspace,
  readTree,
  sha256Of,
  TEST_ACTOR,
  treeDifferences,
  writeTree,
  type TreeState,
  type Workspace,
} from "../../test/support/workspace";
import { IntegrityError } from "../errors";
import { restoreCheckpointInto } from "../rollback/restore-into";
import { openCheckpointArchive } from "./archive";
import { createCheckpoint } from "./create";
import { getCheckpoint } from "./queries";

cleanUpAfterEach();

async function drain(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

/** The archive of `checkpointId` extracted with the system's tar or unzip; returns the checkpoint's folder inside it. */
async function extracted(ws: Workspace, checkpointId: string, format: "tar.gz" | "zip"): Promise<string> {
  const archive = await openCheckpointArchive(ws.core, checkpointId, format);
  const file = path.join(ws.base, `out.${format}`);
  fs.writeFileSync(file, await drain(archive.stream));
  const into = path.join(ws.base, `x-${format}`);
  fs.mkdirSync(into);
  if (format === "zip") execFileSync("unzip", ["-q", file, "-d", into]);
  else execFileSync("tar", ["-xzf", file, "-C", into]);
  expect(fs.readdirSync(into)).toEqual([`app-${checkpointId}`]);
  expect(archive.fileName).toBe(`app-${checkpointId}.${format}`);
  return path.join(into, `app-${checkpointId}`);
}

/** Mtimes in whole seconds (the tar header's resolution). */
function secondsOf(tree: TreeState): Map<string, number> {
  return new Map([...tree].filter(([, n]) => n.kind !== "symlink").map(([rel, n]) => [rel, Math.floor(n.mtimeMs / 1000)]));
}

describe("checkpoint archive", () => {
  it("streams a .tar.gz equal to `checkpoint restore`: every byte, mode, link, empty folder, and mtimes to the second", async () => {
    const ws = openWorkspace();
    writeEdgeCaseTree(ws.root, path.join(ws.base, "outside"));
    await addComponent(ws);
    const checkpoint = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    const restored = path.join(ws.base, "restored");
    await restoreCheckpointInto(ws.core, checkpoint.id, restored, { actor: TEST_ACTOR });

    const folder = await extracted(ws, checkpoint.id, "tar.gz");

    const expected = readTree(restored);
    const actual = readTree(folder);
    expect(treeDifferences(expected, actual, { mtime: false })).toEqual([]);
    expect(secondsOf(actual)).toEqual(secondsOf(expected));
    expect(actual.get("scripts/run.sh")?.mode).toBe(0o755);
    expect(actual.get("secret.txt")?.mode).toBe(0o600);
    expect(actual.get("links/outside-absolute")).toMatchObject({ kind: "symlink", linkTarget: path.join(ws.base, "outside", "secret.txt") });
    expect(actual.get("nested/empty/deeper")).toMatchObject({ kind: "dir", mode: 0o700 });
  });

  it("streams a .zip with the same files, modes and links", async () => {
    const ws = openWorkspace();
    writeEdgeCaseTree(ws.root, path.join(ws.base, "outside"));
    await addComponent(ws);
    const checkpoint = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    const restored = path.join(ws.base, "restored");
    await restoreCheckpointInto(ws.core, checkpoint.id, restored, { actor: TEST_ACTOR });

    const folder = await extracted(ws, checkpoint.id, "zip");

    // zip keeps mtimes in 2-second DOS time: content, kinds, modes and links are compared exactly.
    expect(treeDifferences(readTree(restored), readTree(folder), { mtime: false })).toEqual([]);
  });

  it("fails the stream when an object is corrupt (nothing after it is sent), names the file, and records the damage", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "first\n", "m.bin": Buffer.alloc(700_000, 7), "z.txt": "after the damaged one\n" });
    await addComponent(ws);
    const checkpoint = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    await corruptObject(ws.dataDir, sha256Of(Buffer.alloc(700_000, 7)));

    const archive = await openCheckpointArchive(ws.core, checkpoint.id, "tar.gz");
    const received: Buffer[] = [];
    archive.stream.on("data", (chunk: Buffer) => received.push(chunk));
    const failure = await new Promise((resolve) => {
      archive.stream.on("error", resolve);
      archive.stream.on("end", () => resolve(null));
    });

    expect(failure).toBeInstanceOf(IntegrityError);
    // Whatever reached the reader (gzip may still hold it all) has no entry after the damaged one (tar is in manifest order: a.txt, m.bin, z.txt).
    const tarBytes = zlib.gunzipSync(Buffer.concat(received), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    expect(tarBytes.includes(Buffer.from(`app-${checkpoint.id}/z.txt`))).toBe(false);
    expect(tarBytes.includes(Buffer.from("after the damaged one"))).toBe(false);
    expect((failure as IntegrityError).message).toMatch(/m\.bin is corrupt/);
    const detail = await getCheckpoint(ws.core, checkpoint.id);
    expect(detail.verifyState).toBe("corrupt");
    expect(detail.damagedFiles).toEqual([{ path: "m.bin", sha256: sha256Of(Buffer.alloc(700_000, 7)), state: "corrupt" }]);
  });

  it("refuses before the first byte when an object is missing, naming it", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "first\n", "gone.txt": "will be lost\n" });
    await addComponent(ws);
    const checkpoint = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    await deleteObject(ws.dataDir, sha256Of("will be lost\n"));

    await expect(openCheckpointArchive(ws.core, checkpoint.id, "zip")).rejects.toThrow(/refused before the first byte: 1 stored object\(s\) are damaged: gone\.txt \(missing\)/);
    expect((await getCheckpoint(ws.core, checkpoint.id)).verifyState).toBe("missing");
  });
});
