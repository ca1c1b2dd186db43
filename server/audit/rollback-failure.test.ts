import { describe, expect, it } from "vitest";
import { ConflictError, InsufficientStorageError, IntegrityError, InvalidInputError } from "../errors";
import { classifyRollbackFailure, storedRollbackFailure } from "./rollback-failure";

describe("a failed rollback: refused before any change, or ran", () => {
  it("names the check that refused it when nothing was changed", () => {
    expect(classifyRollbackFailure(new IntegrityError("corrupt object", {}), false)).toEqual({ failure: "refused", refusal: "integrity" });
    expect(classifyRollbackFailure(new InvalidInputError("confirmToken refused: stale", { field: "confirmToken" }), false)).toEqual({ failure: "refused", refusal: "confirmation" });
    expect(classifyRollbackFailure(new ConflictError("in the way", { obstacles: [{ path: "a", inTheWay: ["a/x"] }] }), false)).toEqual({ failure: "refused", refusal: "obstacles" });
    expect(classifyRollbackFailure(new ConflictError("locked", { lock: "held" }), false)).toEqual({ failure: "refused", refusal: "busy" });
    expect(classifyRollbackFailure(new InsufficientStorageError("no space", {}), false)).toEqual({ failure: "refused", refusal: "space" });
  });

  it("counts as ran once it had started changing the workspace, or for an error no check foresaw", () => {
    expect(classifyRollbackFailure(new IntegrityError("corrupt object", {}), true)).toEqual({ failure: "ran" });
    expect(classifyRollbackFailure(new Error("EIO"), false)).toEqual({ failure: "ran" });
  });

  it("reads what was stored, and nothing from events recorded before the distinction", () => {
    expect(storedRollbackFailure({ failure: "refused", refusal: "integrity", rollbackId: "rb_1" })).toEqual({ failure: "refused", refusal: "integrity" });
    expect(storedRollbackFailure({ failure: "ran" })).toEqual({ failure: "ran" });
    expect(storedRollbackFailure({ errorCode: "INTEGRITY" })).toBeNull();
    expect(storedRollbackFailure(null)).toBeNull();
  });
});
