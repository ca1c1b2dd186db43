import { describe, expect, it } from "vitest";
import { ConflictError, exitCodeOf, InsufficientStorageError, SafetyNetError } from "./errors";

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

  it("keeps the plain check for subclasses", () => {
    expect(foreign()).not.toBeInstanceOf(InsufficientStorageError);
    expect(new ConflictError("busy")).toBeInstanceOf(SafetyNetError);
    expect(new ConflictError("busy")).not.toBeInstanceOf(InsufficientStorageError);
  });
});
