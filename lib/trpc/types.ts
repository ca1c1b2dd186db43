/** The API's output shapes as the dashboard sees them (inferred from the router; type-only). */
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/api/root";
import type { HistoryListInput } from "@/server/schemas";

export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;

export type Viewer = RouterOutputs["auth"]["whoami"];
export type ViewerRole = Viewer["role"];
export type ComponentListItem = RouterOutputs["component"]["list"]["items"][number];
export type ComponentDetail = RouterOutputs["component"]["get"];
export type CheckpointListItem = RouterOutputs["checkpoint"]["list"]["items"][number];
export type CheckpointDetail = RouterOutputs["checkpoint"]["get"];
export type CheckpointEntry = RouterOutputs["checkpoint"]["entries"]["items"][number];
export type CheckpointDiff = RouterOutputs["checkpoint"]["diff"];
export type DiffEntry = CheckpointDiff["added"][number];
export type VerifyResult = RouterOutputs["checkpoint"]["verify"];
export type RollbackPlan = RouterOutputs["rollback"]["plan"];
export type RollbackResult = RouterOutputs["rollback"]["execute"];
export type HistoryItem = RouterOutputs["history"]["list"]["items"][number];
export type HistoryFilter = Partial<Pick<HistoryListInput, "component" | "kind" | "outcome" | "failure" | "actor" | "agent" | "task" | "since" | "until">>;
export type HistoryPage = RouterOutputs["history"]["list"];
export type HistoryCheckpoint = HistoryPage["checkpoints"][string];
export type TimelineItem = RouterOutputs["component"]["timeline"]["items"][number];
export type TimelineCheckpoint = Extract<TimelineItem, { type: "checkpoint" }>["checkpoint"];
export type TimelineRollback = Extract<TimelineItem, { type: "rollback" }>["rollback"];
export type TimelineEvent = Extract<TimelineItem, { type: "event" }>["event"];
export type TimelineDay = RouterOutputs["component"]["timelineDays"]["days"][number];
export type CheckpointCreated = RouterOutputs["checkpoint"]["create"];
export type RetentionPolicies = RouterOutputs["retention"]["get"];
export type RetentionRun = RouterOutputs["retention"]["run"];
export type RetentionPolicySetResult = RouterOutputs["retention"]["set"];
export type TokenView = RouterOutputs["auth"]["listTokens"]["items"][number];
export type CreatedToken = RouterOutputs["auth"]["createToken"];
export type StatsSummary = RouterOutputs["stats"]["summary"];
export type SessionItem = RouterOutputs["session"]["list"]["items"][number];

const ROLE_RANK: Record<ViewerRole, number> = { viewer: 0, agent: 1, operator: 2, admin: 3 };

/** Whether `role` may do what `required` may (viewer < agent < operator < admin). */
export function roleAllows(role: ViewerRole, required: ViewerRole): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[required];
}
