import { describe, expect, it } from "vitest";
import { ConflictError, exitCodeOf, FileVanishedError, InsufficientStorageError, IntegrityError, SafetyNetError, UnstableFileError } from "./errors";

describe("SafetyNetError across copies of the module", () => {
  // What an error of another bundled copy of the core looks like from here: the same shape, another class.
  const foreign = () => Object.assign(new Error("no space left"), { code: "NO_SPACE", details: { neededBytes: 10 } });

  it("recognizes an error of another copy by its code and details, so it keeps its exit code", () => {
    expect(foreign()).toBeInstanceOf(SafetyNetError);
    expect(exitCodeOf(foreign())).toBe(1);
    expect(exitCodeOf(Object.assign(new Error("busy"), { code: "CONFLICT", details: {} }))).toBe(3);
  });

  it("does not take an ordinary error, or one with a code of Node's, for one of its own", () => {
    expect(new Error("plain")).not.toBeInstanceOf(SafetyNetError);
    expect(Object.assign(new Error("ENOSPC"), { code: "ENOSPC", details: {} })).not.toBeInstanceOf(SafetyNetError);
    expect(Object.assign(new Error("no details"), { code: "NO_SPACE" })).not.toBeInstanceOf(SafetyNetError);
  });

  it("recognizes a subclass with a code of its own by that code, and keeps the plain check where a code is shared", () => {
    expect(foreign()).toBeInstanceOf(InsufficientStorageError);
    expect(foreign()).not.toBeInstanceOf(IntegrityError);
    const damaged = Object.assign(new Error("object is corrupt"), { code: "INTEGRITY", details: { state: "corrupt" } });
    expect(damaged).toBeInstanceOf(IntegrityError);
    expect(damaged).not.toBeInstanceOf(ConflictError);
    // A FileVanishedError is a ConflictError: a foreign one is known as a conflict, not as the vanished file it may not be.
    const busy = Object.assign(new Error("busy"), { code: "CONFLICT", details: {} });
    expect(busy).toBeInstanceOf(ConflictError);
    expect(busy).not.toBeInstanceOf(FileVanishedError);
    expect(Object.assign(new Error("failed"), { code: "FAILED", details: {} })).not.toBeInstanceOf(UnstableFileError);
    expect(new ConflictError("busy")).toBeInstanceOf(SafetyNetError);
    expect(new ConflictError("busy")).not.toBeInstanceOf(InsufficientStorageError);
  });
});
