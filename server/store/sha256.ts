/** sha256 naming of objects: 64 lowercase hex characters. */
import { createHash } from "node:crypto";
import { InvalidInputError } from "../errors";

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** sha256 of `content` as lowercase hex; strings are hashed as their UTF-8 bytes. */
export function sha256Hex(content: Buffer | string): string {
  return createHash("sha256").update(content).digest("hex");
}

export function isSha256Hex(value: unknown): value is string {
  return typeof value === "string" && SHA256_HEX.test(value);
}

/** Throws InvalidInputError unless `value` is 64 lowercase hex characters. */
export function assertSha256Hex(value: unknown): asserts value is string {
  if (!isSha256Hex(value)) {
    const shown = typeof value === "string" ? JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value) : typeof value;
    throw new InvalidInputError(`invalid sha256 ${shown}: expected 64 lowercase hex characters`, { sha256: value });
  }
}
