/**
 * The position of a session in the list, as an opaque URL-safe cursor: the next
 * page starts after it. Sessions are ordered by their last activity, newest first,
 * then by the greatest id among their checkpoints (unique: an id belongs to one
 * session), so the cursor stays short whatever the task's length.
 */
import { InvalidInputError } from "../errors";

export interface SessionPosition {
  /** The session's last checkpoint time, ms since the epoch. */
  lastMs: number;
  /** The greatest checkpoint id of the session. */
  maxId: string;
}

export function encodeSessionCursor(position: SessionPosition): string {
  return Buffer.from(JSON.stringify([position.lastMs, position.maxId]), "utf8").toString("base64url");
}

export function decodeSessionCursor(cursor: string): SessionPosition {
  const invalid = () => new InvalidInputError("invalid cursor: pass the nextCursor of the previous page", { field: "cursor" });
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw invalid();
  const [lastMs, maxId] = parsed as unknown[];
  if (typeof lastMs !== "number" || !Number.isSafeInteger(lastMs) || typeof maxId !== "string") throw invalid();
  return { lastMs, maxId };
}
