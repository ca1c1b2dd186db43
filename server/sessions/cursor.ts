/**
 * The position of a session in the list (latest activity first, then component
 * name, then task), as an opaque URL-safe cursor: the next page starts after it.
 */
import { InvalidInputError } from "../errors";

export interface SessionPosition {
  /** The session's last checkpoint time, ms since the epoch. */
  lastMs: number;
  component: string;
  task: string;
}

export function encodeSessionCursor(position: SessionPosition): string {
  return Buffer.from(JSON.stringify([position.lastMs, position.component, position.task]), "utf8").toString("base64url");
}

export function decodeSessionCursor(cursor: string): SessionPosition {
  const invalid = () => new InvalidInputError("invalid cursor: pass the nextCursor of the previous page", { field: "cursor" });
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw invalid();
  const [lastMs, component, task] = parsed as unknown[];
  if (typeof lastMs !== "number" || !Number.isSafeInteger(lastMs) || typeof component !== "string" || typeof task !== "string") throw invalid();
  return { lastMs, component, task };
}
