import { describe, expect, it } from "vitest";
import { clearRolledBack, markRolledBack, rolledBackMarkOf } from "./component-status";

const ROLLBACK = { rollbackId: "rb_1", checkpointId: "cp_1", at: "2026-03-03T08:00:00.000Z" };

describe("the status a rollback sets on the metadata document", () => {
  it("marks the document with the rollback, the checkpoint, the time and the status before", () => {
    const marked = markRolledBack({ owner: "alice", status: "beta" }, ROLLBACK);
    expect(marked).toEqual({ owner: "alice", status: "rolled-back", rolledBack: { ...ROLLBACK, statusBefore: "beta" } });
    expect(rolledBackMarkOf(marked)).toEqual({ ...ROLLBACK, statusBefore: "beta" });
  });

  it("keeps the status from before the first of consecutive rollbacks", () => {
    const first = markRolledBack({ status: "beta" }, ROLLBACK);
    const second = markRolledBack(first, { ...ROLLBACK, rollbackId: "rb_2" });
    expect(rolledBackMarkOf(second)).toMatchObject({ rollbackId: "rb_2", statusBefore: "beta" });
  });

  it("is cleared by the next checkpoint: the status before comes back (active when there was none), other statuses are left alone", () => {
    expect(clearRolledBack(markRolledBack({ owner: "alice", status: "beta" }, ROLLBACK))).toEqual({ owner: "alice", status: "beta" });
    expect(clearRolledBack(markRolledBack({ owner: "alice" }, ROLLBACK))).toEqual({ owner: "alice", status: "active" });
    expect(clearRolledBack({ status: "rolled-back" })).toEqual({ status: "active" });
    expect(clearRolledBack({ status: "editing" })).toBeNull();
    expect(rolledBackMarkOf({ status: "editing", rolledBack: ROLLBACK })).toBeNull();
  });
});
