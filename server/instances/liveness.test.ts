import { describe, expect, it } from "vitest";
import { instancesServing, instanceState, isLive, livenessSettings, servesRoot, type InstanceRecord } from "./liveness";
import { noLiveInstanceMessage } from "./routing";
import { servedBy } from "./serving";

const NOW = new Date("2026-03-01T12:00:00.000Z");
const STALE_MS = 9_000;

function instance(id: string, roots: string[], heartbeatAgoMs: number, extra: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    id,
    host: `host-${id}`,
    roots,
    version: "0.1.0",
    pid: 1,
    startedAt: new Date(NOW.getTime() - 60_000),
    heartbeatAt: new Date(NOW.getTime() - heartbeatAgoMs),
    stoppedAt: null,
    ...extra,
  };
}

describe("instance liveness", () => {
  it("counts an instance live while its last heartbeat is younger than the bound, and stale from the bound on", () => {
    expect(isLive(instance("a", [], 0), NOW, STALE_MS)).toBe(true);
    expect(isLive(instance("a", [], STALE_MS - 1), NOW, STALE_MS)).toBe(true);
    expect(instanceState(instance("a", [], STALE_MS), NOW, STALE_MS)).toBe("stale");
    expect(instanceState(instance("a", [], 60_000), NOW, STALE_MS)).toBe("stale");
  });

  it("never counts an instance that shut down cleanly as live, however fresh its last heartbeat", () => {
    expect(instanceState(instance("a", [], 0, { stoppedAt: NOW }), NOW, STALE_MS)).toBe("stopped");
  });

  it("bounds liveness at three heartbeats by default, and never below one heartbeat", () => {
    expect(livenessSettings({})).toEqual({ heartbeatMs: 3_000, staleMs: 9_000 });
    expect(livenessSettings({ SAFETYNET_HEARTBEAT_MS: "1000" })).toEqual({ heartbeatMs: 1_000, staleMs: 3_000 });
    expect(livenessSettings({ SAFETYNET_HEARTBEAT_MS: "1000", SAFETYNET_INSTANCE_STALE_MS: "10" })).toEqual({ heartbeatMs: 1_000, staleMs: 1_000 });
    expect(livenessSettings({ SAFETYNET_HEARTBEAT_MS: "often" })).toEqual({ heartbeatMs: 3_000, staleMs: 9_000 });
  });
});

describe("which instances serve a component root", () => {
  it("serves a root that lies inside one of the instance's allowed roots, or is one, and nothing beside them", () => {
    const a = instance("a", ["/srv/work", "/home/agent/projects"], 0);
    expect(servesRoot(a, "/srv/work/app")).toBe(true);
    expect(servesRoot(a, "/srv/work")).toBe(true);
    expect(servesRoot(a, "/home/agent/projects/deep/er/app")).toBe(true);
    expect(servesRoot(a, "/srv/workspace/app")).toBe(false);
    expect(servesRoot(a, "/srv")).toBe(false);
  });

  it("lists every live instance whose roots overlap the component's, freshest first, and leaves the others out", () => {
    const a = instance("a", ["/srv"], 2_000);
    const b = instance("b", ["/srv/work"], 500);
    const c = instance("c", ["/elsewhere"], 0);
    const serving = instancesServing("/srv/work/app", [a, b, c], NOW, STALE_MS);
    expect(serving.live.map((i) => i.id)).toEqual(["b", "a"]);
    expect(serving.lastSeen?.id).toBe("b");
  });

  it("names the instance heard from last when none that serves the root is live, and none when no instance ever served it", () => {
    const gone = instance("b", ["/srv/work"], 40_000);
    const longGone = instance("old", ["/srv"], 400_000, { stoppedAt: new Date(NOW.getTime() - 399_000) });
    const serving = instancesServing("/srv/work/app", [longGone, gone, instance("c", ["/elsewhere"], 0)], NOW, STALE_MS);
    expect(serving.live).toEqual([]);
    expect(serving.lastSeen?.id).toBe("b");
    expect(instancesServing("/nowhere/app", [gone], NOW, STALE_MS).lastSeen).toBeNull();
    expect(noLiveInstanceMessage("app", serving.lastSeen)).toBe(`no live instance serves component app (last seen: b on host-b at ${new Date(NOW.getTime() - 40_000).toISOString()})`);
    expect(noLiveInstanceMessage("app", null)).toBe("no live instance serves component app (last seen: never)");
  });

  it("shows a component served by two overlapping instances as live while either is, live ones first", () => {
    const a = instance("a", ["/srv"], 30_000);
    const b = instance("b", ["/srv/work"], 1_000);
    expect(servedBy("/srv/work/app", [a, b], NOW, STALE_MS, "a")).toEqual({
      state: "live",
      instances: [
        { id: "b", host: "host-b", state: "live", heartbeatAt: b.heartbeatAt.toISOString(), self: false },
        { id: "a", host: "host-a", state: "stale", heartbeatAt: a.heartbeatAt.toISOString(), self: true },
      ],
    });
    expect(servedBy("/srv/other", [b], NOW, STALE_MS, null)).toEqual({ state: "none", instances: [] });
  });
});
