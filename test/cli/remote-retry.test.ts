/**
 * The CLI in remote mode against a server that cuts a connection before
 * answering (as one closing a kept-alive socket under a request does): a query
 * is sent once more and succeeds; a mutation, which the server may have seen, is
 * not repeated and fails naming the server.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, jsonOf, makeWorkspaceDirs, runCli, type CliErrorJson } from "../support/workspace";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

let server: Server;
let url: string;
const seen: string[] = [];
let dropNext = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${new URL(req.url ?? "/", "http://x").pathname}`);
    req.resume();
    req.on("end", () => {
      if (dropNext > 0) {
        dropNext--;
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ result: { data: [] } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("safetynet --url when the connection is cut before the answer", () => {
  it("sends a query (component list) once more and succeeds", async () => {
    seen.length = 0;
    dropNext = 1;
    const result = await runCli(makeWorkspaceDirs(), ["--url", url, "--token", "sn_x", "component", "list", "--json"], { env: { SAFETYNET_DATA_DIR: undefined } });
    expect(result.status, result.stderr).toBe(0);
    expect(seen).toEqual(["GET /api/trpc/component.list", "GET /api/trpc/component.list"]);
  });

  it("does not repeat a mutation (checkpoint create): exit 1, one request, the message names the server", async () => {
    seen.length = 0;
    dropNext = 1;
    const result = await runCli(makeWorkspaceDirs(), ["--url", url, "--token", "sn_x", "checkpoint", "create", "app", "--json"], { env: { SAFETYNET_DATA_DIR: undefined } });
    expect(result.status).toBe(1);
    expect(jsonOf<CliErrorJson>(result).error.message).toContain(`cannot reach the Safety Net server at ${url}`);
    expect(seen).toEqual(["POST /api/trpc/checkpoint.create"]);
  });
});
