import { randomBytes } from "node:crypto";

/**
 * Time-sortable ids (`cp_` + 10 chars of base32 milliseconds + 10 random), so
 * ordering by id is ordering by creation and ids make stable pagination cursors.
 */
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

function encodeTime(ms: number): string {
  let out = "";
  let rest = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function encodeRandom(length: number): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const byte of bytes) out += ALPHABET[byte % 32];
  return out;
}

export type IdPrefix = "cmp" | "cp" | "rb" | "ev" | "tok" | "ses" | "in" | "job" | "run";

export function newId(prefix: IdPrefix, now = Date.now()): string {
  return `${prefix}_${encodeTime(now)}${encodeRandom(10)}`;
}
