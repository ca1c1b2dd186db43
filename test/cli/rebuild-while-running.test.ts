/**
 * Rebuilding the CLI (`node scripts/build-cli.mjs`, as `npm install` and
 * `npm run build:cli` do) while a CLI process runs: the process keeps the build it
 * started from, even when it loads a lazy chunk after the rebuild, and builds no
 * process uses any more are removed by a later build.
 *
 * Runs on a copy of the package (sources, scripts, bin, migrations; node_modules
 * linked) so the sources can change between builds, as they do for a developer:
 * chunk names are content hashes, so the chunk the running process still needs
 * has no file of that name in the new build.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { metadataEnvFor } from "../support/metadata-store";
import { objectStoreEnvFor } from "../support/object-store-location";
import { cleanUpAfterEach, makeTempDir, REPO_ROOT } from "../support/workspace";

const PACKAGE_ENTRIES = ["bin", "scripts", "server", "prisma", "package.json", "tsconfig.json"];
/** Each test runs several full builds of the bundle (seconds each, more on a busy machine). */
const BUILDS_TIMEOUT_MS = 600_000;
const REGISTRY_SOURCE = path.join("server", "registry", "components.ts");

cleanUpAfterEach();

let pkg: string;
let env: NodeJS.ProcessEnv;
let workspace: string;

function copyPackage(): string {
  const dir = makeTempDir("cli-rebuild", "file");
  for (const entry of PACKAGE_ENTRIES) {
    fs.cpSync(path.join(REPO_ROOT, entry), path.join(dir, entry), { recursive: true, filter: (source) => !/\.test\.tsx?$/.test(source) });
  }
  fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

function buildCli(): void {
  const result = spawnSync(process.execPath, [path.join(pkg, "scripts", "build-cli.mjs")], { cwd: pkg, encoding: "utf8" });
  expect(result.status, result.stderr).toBe(0);
}

/** A change to a source the lazily loaded part of the CLI holds, as a developer's edit between two builds. */
function editSources(generation: number): void {
  const file = path.join(pkg, REGISTRY_SOURCE);
  fs.appendFileSync(file, `\n(globalThis as Record<string, unknown>).__safetynetBuildGeneration = ${generation};\n`);
}

function currentBuild(): string {
  return fs.realpathSync(path.join(pkg, "dist", "cli"));
}

function builds(): string[] {
  return fs
    .readdirSync(path.join(pkg, "dist", "cli-builds"))
    .filter((name) => !name.startsWith("."))
    .sort();
}

/** The chunk file of a build whose source map holds `source`. */
function chunkHolding(build: string, source: string): string {
  const chunks = path.join(build, "chunks");
  const map = fs.readdirSync(chunks).find((name) => name.endsWith(".mjs.map") && (JSON.parse(fs.readFileSync(path.join(chunks, name), "utf8")) as { sources: string[] }).sources.some((s) => s.endsWith(source)));
  expect(map, `a chunk of ${build} holds ${source}`).toBeDefined();
  return (map as string).replace(/\.map$/, "");
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [path.join(pkg, "bin", "safetynet.mjs"), ...args], { cwd: pkg, env, encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `safetynet <args>` on a terminal (util-linux `script` gives it one): what it printed so far, a way to answer, its exit. */
function cliOnTerminal(args: string[]) {
  const command = [process.execPath, path.join(pkg, "bin", "safetynet.mjs"), ...args].map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(" ");
  const child = spawn("script", ["-qfec", command, "/dev/null"], { cwd: pkg, env, stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return {
    output: () => output,
    waitFor: async (text: string) => {
      while (!output.includes(text)) {
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before printing ${JSON.stringify(text)}:\n${output}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    answer: (line: string) => child.stdin.write(`${line}\n`),
    exited,
  };
}

beforeAll(() => {
  pkg = copyPackage();
  const base = makeTempDir("cli-rebuild-data", "file");
  workspace = path.join(base, "workspace");
  fs.mkdirSync(path.join(workspace, "web"), { recursive: true });
  fs.writeFileSync(path.join(workspace, "web", "index.ts"), "export {};\n");
  const dataDir = path.join(base, "data");
  env = { ...process.env, SAFETYNET_DATA_DIR: dataDir, SAFETYNET_ALLOWED_ROOTS: workspace, SAFETYNET_NO_SERVER: "1", ...metadataEnvFor(dataDir), ...objectStoreEnvFor(dataDir) };
  buildCli();
});

describe("rebuilding the CLI while it runs", () => {
  it("lets a command waiting at its y/N prompt finish from the build it started with after two rebuilds, then prunes the builds nobody uses", async () => {
    expect(cli(["component", "add", "web", "--root", path.join(workspace, "web")]).status).toBe(0);
    const first = currentBuild();

    // `component remove` asks first, and only after the answer loads the registry and the core (lazy chunks).
    const running = cliOnTerminal(["component", "remove", "web"]);
    await running.waitFor("[y/N]");
    const users = fs.readdirSync(path.join(first, "users"));
    expect(users).toHaveLength(1);

    editSources(1);
    buildCli();
    editSources(2);
    buildCli();
    const newest = currentBuild();
    expect(newest).not.toBe(first);
    // The chunk the waiting command is about to load exists in its build only: rebuilding in place would have removed it.
    const lazyChunk = chunkHolding(first, REGISTRY_SOURCE);
    expect(fs.existsSync(path.join(newest, "chunks", lazyChunk))).toBe(false);
    // Three builds, although only the newest two are kept for their own sake: the first one is in use.
    expect(builds()).toHaveLength(3);
    expect(fs.existsSync(path.join(first, "chunks", lazyChunk))).toBe(true);

    running.answer("y");
    expect(await running.exited, running.output()).toBe(0);
    expect(running.output()).toContain("removed component web");
    expect(fs.readdirSync(path.join(first, "users"))).toEqual([]);
    const listed = JSON.parse(cli(["component", "list", "--json"]).stdout) as { items: { name: string }[] };
    expect(listed.items.map((c) => c.name)).not.toContain("web");

    // Nothing uses the first two builds any more: the next build removes them and keeps the newest two.
    const second = builds()[1] as string;
    buildCli();
    expect(builds()).toEqual([path.basename(newest), path.basename(currentBuild())]);
    expect(fs.existsSync(first)).toBe(false);
    expect(builds()).not.toContain(second);
    expect(cli(["component", "list", "--json"]).status).toBe(0);
  }, BUILDS_TIMEOUT_MS);

  it("keeps a build while a CLI that started from it still runs, through any number of rebuilds", async () => {
    expect(cli(["component", "add", "api", "--root", path.join(workspace, "web")]).status).toBe(0);
    const held = currentBuild();
    const running = cliOnTerminal(["component", "remove", "api"]);
    await running.waitFor("[y/N]");
    for (let generation = 10; generation < 13; generation++) {
      editSources(generation);
      buildCli();
    }
    expect(builds()).toEqual([path.basename(held), ...builds().slice(-2)]);
    running.answer("n");
    expect(await running.exited).not.toBe(0);
    expect(running.output()).toContain("cancelled: nothing was changed");
    buildCli();
    expect(fs.existsSync(held)).toBe(false);
    expect(builds()).toHaveLength(2);
  }, BUILDS_TIMEOUT_MS);

  it("turns a dist/cli folder of the older layout into a build, and switches to a link", () => {
    const legacy = path.join(pkg, "dist", "cli-legacy-copy");
    fs.cpSync(currentBuild(), legacy, { recursive: true });
    fs.rmSync(path.join(legacy, "users"), { recursive: true });
    fs.rmSync(path.join(pkg, "dist", "cli"));
    fs.renameSync(legacy, path.join(pkg, "dist", "cli"));
    expect(fs.lstatSync(path.join(pkg, "dist", "cli")).isDirectory()).toBe(true);
    expect(cli(["component", "list", "--json"]).status).toBe(0);

    buildCli();
    expect(fs.lstatSync(path.join(pkg, "dist", "cli")).isSymbolicLink()).toBe(true);
    expect(builds()).toHaveLength(2);
    expect(cli(["component", "list", "--json"]).status).toBe(0);
  }, BUILDS_TIMEOUT_MS);
});
