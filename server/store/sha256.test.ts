import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../errors";
import { assertSha256Hex, isSha256Hex, sha256Hex } from "./sha256";

describe("sha256Hex", () => {
  it("is the standard sha256 as lowercase hex", () => {
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("hashes a string as its UTF-8 bytes", () => {
    const text = "héllo wörld ✓";
    expect(sha256Hex(text)).toBe(sha256Hex(Buffer.from(text, "utf8")));
    expect(sha256Hex(text)).toBe(createHash("sha256").update(Buffer.from(text, "utf8")).digest("hex"));
  });
});

describe("sha256 names", () => {
  const valid = "a".repeat(64);

  it("accepts exactly 64 lowercase hex characters", () => {
    expect(isSha256Hex(valid)).toBe(true);
    expect(isSha256Hex(sha256Hex("x"))).toBe(true);
  });

  it.each([
    ["uppercase", "A".repeat(64)],
    ["too short", "a".repeat(63)],
    ["too long", "a".repeat(65)],
    ["non-hex", "g".repeat(64)],
    ["a path", `../${"a".repeat(61)}`],
    ["empty", ""],
  ])("rejects %s", (_label, value) => {
    expect(isSha256Hex(value)).toBe(false);
    expect(() => assertSha256Hex(value)).toThrow(InvalidInputError);
  });

  it("rejects non-strings", () => {
    expect(isSha256Hex(undefined)).toBe(false);
    expect(isSha256Hex(42)).toBe(false);
    expect(() => assertSha256Hex(null)).toThrow(/invalid sha256/);
  });
});
