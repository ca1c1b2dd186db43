/**
 * A server with Watchman on, and files with several names. Writing one
 * name changes every name of the file, but Watchman reports only the name that
 * was written, or nothing at all when that name lies outside the component. The
 * server's diff and rollback must still see the change under every name.
 */
import { appendFileSync, linkSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, makeComponent } from "./api";
import { startServer, type RunningServer } from "./server";

type Diff = Record<"added" | "modified" | "deleted" | "linkChanged" | "mtimeChanged", { path: string }[]>;
const paths = (list: { path: string }[]) => list.map((e) => e.path).sort();

describe("hard links under Watchman", () => {
  let server: RunningServer;
  let admin: Api;

  beforeAll(async () => {
    server = await startServer({ name: "watcher-links", env: { SAFETYNET_WATCH: "on" } });
    admin = new Api(server.baseUrl, server.adminToken);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("sees a write through another name (in the component or outside it) under every name of the file", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "a.txt": "one\n", "src/keep.ts": "export {};\n" });
    const outside = path.join(server.workspace, "outside");
    mkdirSync(outside, { recursive: true });
    linkSync(path.join(root, "a.txt"), path.join(outside, "alias.txt"));
    // Two scans: the first walks, the second (after Watchman watches the root) can be incremental.
    await admin.call("checkpoint.create", { component: name });
    const cp = await admin.call<{ id: string }>("checkpoint.create", { component: name });

    // Written only through the name outside: Watchman's watch of the component hears nothing.
    appendFileSync(path.join(outside, "alias.txt"), "written outside\n");
    let diff = await admin.get<Diff>("checkpoint.diff", { id: cp.id });
    expect(paths(diff.modified)).toEqual(["a.txt"]);

    // More names inside the component: `ln a.txt b.txt` reports only b.txt, yet a.txt now has a sibling.
    linkSync(path.join(root, "a.txt"), path.join(root, "b.txt"));
    linkSync(path.join(root, "a.txt"), path.join(root, "src/c.txt"));
    diff = await admin.get<Diff>("checkpoint.diff", { id: cp.id });
    expect(paths(diff.added)).toEqual(["b.txt", "src/c.txt"]);
    const second = await admin.call<{ id: string }>("checkpoint.create", { component: name });
    for (const [i, written] of ["a.txt", "b.txt", "src/c.txt"].entries()) {
      writeFileSync(path.join(root, written), `changed through ${written} (${i})\n`);
      diff = await admin.get<Diff>("checkpoint.diff", { id: second.id });
      expect(paths(diff.modified), `after a write to ${written}`).toEqual(["a.txt", "b.txt", "src/c.txt"]);
    }

    // Rolled back to the second checkpoint: both names hold its content again, as one file.
    const plan = await admin.call<{ confirmToken: string }>("rollback.plan", { checkpointId: second.id });
    await admin.call("rollback.execute", { checkpointId: second.id, confirmToken: plan.confirmToken });
    expect(readFileSync(path.join(root, "a.txt"), "utf8")).toBe("one\nwritten outside\n");
    expect(statSync(path.join(root, "b.txt")).ino).toBe(statSync(path.join(root, "a.txt")).ino);
    expect(statSync(path.join(root, "src/c.txt")).ino).toBe(statSync(path.join(root, "a.txt")).ino);
    diff = await admin.get<Diff>("checkpoint.diff", { id: second.id });
    expect([...diff.added, ...diff.modified, ...diff.deleted, ...diff.linkChanged, ...diff.mtimeChanged]).toEqual([]);
  });
});
