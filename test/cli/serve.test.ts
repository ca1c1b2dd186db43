import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, makeWorkspaceDirs, runCli } from "../support/workspace";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

// Starting a real server is covered by the HTTP suite (the same scripts/start.mjs); these
// specify what `serve` refuses before it starts anything.
describe("safetynet serve", () => {
  it("refuses a port that is not a number with exit 2, naming the option", async () => {
    const result = await runCli(makeWorkspaceDirs(), ["serve", "--port", "http"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--port expects a whole number, got "http"/);
  });

  it("refuses --url: a server serves its own data directory", async () => {
    const result = await runCli(makeWorkspaceDirs(), ["--url", "http://127.0.0.1:9", "--token", "sn_x", "serve"]);
    expect(result.status).toBe(2);
  });
});
