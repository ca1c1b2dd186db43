/**
 * Idle kept-alive connections stay open longer than clients keep them (65 s;
 * undici drops its own after 4 s), so a client reusing one never races the
 * server closing it. Node's default was 5 s.
 */
import { Agent, request } from "node:http";
import { describe, expect, inject, it } from "vitest";

const server = inject("main");

function get(agent: Agent, path: string): Promise<{ status: number; keepAlive: string; reusedSocket: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.baseUrl}${path}`, { agent }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, keepAlive: String(res.headers["keep-alive"]), reusedSocket: req.reusedSocket }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("keep-alive", () => {
  it("announces timeout=65 and still answers on a connection left idle for 6 s (over Node's default of 5 s)", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(agent, "/api/health");
      expect(first).toMatchObject({ status: 200, keepAlive: "timeout=65", reusedSocket: false });
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      // Had the server closed the idle socket, the agent would have dropped it and opened a new one.
      const second = await get(agent, "/api/health");
      expect(second).toMatchObject({ status: 200, reusedSocket: true });
    } finally {
      agent.destroy();
    }
  });
});
