/**
 * Who this server instance is: an id made once per data directory and kept in it
 * (`instance-id`, or the file SAFETYNET_INSTANCE_ID_FILE names), so a restarted
 * instance is the same instance (its jobs and its "last seen" carry over), plus
 * what it reports about itself (host, roots, version, pid). A `runId` tells this
 * process apart from earlier runs of the same instance.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { writeFileAtomic } from "../atomic-file";
import { packageRoot } from "../config";
import { newId } from "../ids";

export interface InstanceIdentity {
  id: string;
  runId: string;
  host: string;
  /** The workspace roots it can reach (its allowed roots, real paths). */
  roots: string[];
  version: string;
  pid: number;
}

const ID_SHAPE = /^in_[0-9a-z]{20}$/;

export function instanceIdFile(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.SAFETYNET_INSTANCE_ID_FILE?.trim();
  return configured ? path.resolve(dataDir, configured) : path.join(dataDir, "instance-id");
}

/** The instance id kept in `file`, made (once) when there is none or it is not one. */
export function loadInstanceId(file: string): string {
  try {
    const kept = readFileSync(file, "utf8").trim();
    if (ID_SHAPE.test(kept)) return kept;
  } catch {
    // First start on this data directory.
  }
  const id = newId("in");
  writeFileAtomic(file, id + "\n");
  return id;
}

let cachedVersion: string | undefined;
function packageVersion(): string {
  if (cachedVersion) return cachedVersion;
  try {
    cachedVersion = String((JSON.parse(readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as { version?: unknown }).version ?? "unknown");
  } catch {
    cachedVersion = "unknown";
  }
  return cachedVersion;
}

export function instanceIdentity(config: { dataDir: string; allowedRoots: string[] }): InstanceIdentity {
  return {
    id: loadInstanceId(instanceIdFile(config.dataDir)),
    runId: newId("run"),
    host: hostname(),
    roots: [...config.allowedRoots],
    version: packageVersion(),
    pid: process.pid,
  };
}
