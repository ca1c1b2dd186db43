import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, jsonOf, makeTempDir, runCli, type CliErrorJson } from "../support/workspace";
import { insertComponentRow } from "../support/metadata-store";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

describe("the data directory is compared by its real path", () => {
  it("refuses a component on the data directory, or holding it, when SAFETYNET_DATA_DIR goes through a symlink", async () => {
    const base = makeTempDir("roots-datadir");
    const real = path.join(base, "real");
    fs.mkdirSync(path.join(real, "project", "src"), { recursive: true });
    fs.writeFileSync(path.join(real, "project", "src", "a.txt"), "a\n");
    fs.symlinkSync(real, path.join(base, "via-link"));
    const dirs = { base, root: path.join(real, "project"), dataDir: path.join(base, "via-link", "project", ".safetynet") };
    const options = { allowedRoots: [real] };
    await runCli(dirs, ["component", "list", "--json"], options);

    const onData = await runCli(dirs, ["component", "add", "data", "--root", path.join(real, "project", ".safetynet"), "--json"], options);
    expect(onData.status).toBe(2);
    expect(jsonOf<CliErrorJson>(onData).error.message).toMatch(/lies inside the Safety Net data directory .*\/real\/project\/\.safetynet/);

    const holding = await runCli(dirs, ["component", "add", "project", "--root", path.join(real, "project"), "--json"], options);
    expect(holding.status).toBe(2);
    expect(jsonOf<CliErrorJson>(holding).error.message).toMatch(/contains the Safety Net data directory/);

    const beside = await runCli(dirs, ["component", "add", "src", "--root", path.join(real, "project", "src"), "--json"], options);
    expect(beside.status, beside.stderr).toBe(0);
  });
});

describe("component roots that overlap (registered by an older version)", () => {
  it("are refused on every operation, naming both components and roots", async () => {
    const base = makeTempDir("roots-overlap");
    const outer = path.join(base, "ws", "outer");
    fs.mkdirSync(path.join(outer, "inner"), { recursive: true });
    fs.writeFileSync(path.join(outer, "inner", "a.txt"), "a\n");
    const dirs = { base, root: outer, dataDir: path.join(base, "data") };
    await runCli(dirs, ["component", "add", "outer", "--root", outer, "--json"]);
    const inner = await runCli(dirs, ["component", "add", "inner", "--root", path.join(base, "ws"), "--json"]);
    expect(inner.status).toBe(2);
    // What an older version let through: "inner" registered inside "outer".
    await insertComponentRow(dirs.dataDir, { id: "cmp_old", name: "inner", root: path.join(outer, "inner") });

    for (const args of [["checkpoint", "create", "outer"], ["checkpoint", "create", "inner"]]) {
      const refused = await runCli(dirs, [...args, "--json"]);
      expect(refused.status).toBe(2);
      expect(jsonOf<CliErrorJson>(refused).error.message).toMatch(/component "(outer|inner)": its root .* (contains|lies inside) the root of component "(inner|outer)" .*component roots may not overlap/);
    }
  });
});
