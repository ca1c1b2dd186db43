/**
 * SafetyNetClient on a data directory: the same core functions the CLI and the
 * tRPC routers call, with the same input schemas, returning what the API returns.
 */
import type { Core, Actor } from "../core";
import {
  byCheckpointId,
  checkpointCreateInput,
  checkpointDiffInput,
  checkpointEntriesInput,
  checkpointListInput,
  componentUpsertInput,
  fileHistoryInput,
  historyListInput,
  rollbackExecuteInput,
  rollbackPlanInput,
  sessionListInput,
} from "../schemas";
import { parseInput } from "../cli/io";
import { upsertComponent } from "../registry/components";
import { listComponentsWithActivity } from "../registry/component-overview";
import { createCheckpoint } from "../checkpoints/create";
import { getCheckpoint, listCheckpointEntries, listCheckpoints } from "../checkpoints/queries";
import { diffCheckpoint } from "../checkpoints/diff";
import { verifyCheckpoint } from "../checkpoints/verify";
import { planRollback } from "../rollback/preview";
import { executeRollback } from "../rollback/execute";
import { listHistory } from "../audit/history";
import { fileHistory } from "../checkpoints/file-history";
import { listSessions } from "../sessions/list-sessions";
import type { ApiInputs, ApiOutputs, SafetyNetClient } from "./client";

/** Related files listed in a create response, like the API (the count is always complete). */
const MAX_LISTED_RELATED = 1000;

export class LocalClient implements SafetyNetClient {
  readonly mode = "local" as const;

  /**
   * @param core opens the core lazily (the CLI's context: recovers interrupted rollbacks first)
   * @param actor recorded in history (`mcp`, `cli:<user>`)
   */
  constructor(
    private readonly core: () => Promise<Core>,
    private readonly actor: Actor,
    readonly target: string,
  ) {}

  async listComponents(): Promise<ApiOutputs["component"]["list"]> {
    const core = await this.core();
    return { items: await listComponentsWithActivity(core) };
  }

  async upsertComponent(input: ApiInputs["component"]["upsert"]): Promise<ApiOutputs["component"]["upsert"]> {
    return upsertComponent(await this.core(), parseInput(componentUpsertInput, input), this.actor);
  }

  async createCheckpoint(input: ApiInputs["checkpoint"]["create"]): Promise<ApiOutputs["checkpoint"]["create"]> {
    const { related, ...created } = await createCheckpoint(await this.core(), parseInput(checkpointCreateInput, input), this.actor);
    return { ...created, related: related.slice(0, MAX_LISTED_RELATED), relatedCount: related.length };
  }

  async listCheckpoints(input: ApiInputs["checkpoint"]["list"]): Promise<ApiOutputs["checkpoint"]["list"]> {
    return listCheckpoints(await this.core(), parseInput(checkpointListInput, input ?? {}));
  }

  async getCheckpoint(input: ApiInputs["checkpoint"]["get"]): Promise<ApiOutputs["checkpoint"]["get"]> {
    return getCheckpoint(await this.core(), parseInput(byCheckpointId, input).id);
  }

  async checkpointEntries(input: ApiInputs["checkpoint"]["entries"]): Promise<ApiOutputs["checkpoint"]["entries"]> {
    const { id, ...options } = parseInput(checkpointEntriesInput, input);
    return listCheckpointEntries(await this.core(), id, options);
  }

  async diffCheckpoint(input: ApiInputs["checkpoint"]["diff"]): Promise<ApiOutputs["checkpoint"]["diff"]> {
    const { id, ...options } = parseInput(checkpointDiffInput, input);
    return diffCheckpoint(await this.core(), id, options);
  }

  async verifyCheckpoint(input: ApiInputs["checkpoint"]["verify"]): Promise<ApiOutputs["checkpoint"]["verify"]> {
    return verifyCheckpoint(await this.core(), parseInput(byCheckpointId, input).id, this.actor);
  }

  async planRollback(input: ApiInputs["rollback"]["plan"]): Promise<ApiOutputs["rollback"]["plan"]> {
    const { checkpointId, moveObstacles, paths } = parseInput(rollbackPlanInput, input);
    return planRollback(await this.core(), checkpointId, this.actor, { moveObstacles, paths });
  }

  async executeRollback(input: ApiInputs["rollback"]["execute"]): Promise<ApiOutputs["rollback"]["execute"]> {
    const { restoredPaths, deletedPaths, ...result } = await executeRollback(await this.core(), parseInput(rollbackExecuteInput, input), this.actor);
    return { ...result, restoredPaths: restoredPaths.map((r) => r.path), deletedPaths: deletedPaths.map((d) => d.path) };
  }

  async listHistory(input: ApiInputs["history"]["list"]): Promise<ApiOutputs["history"]["list"]> {
    return listHistory(await this.core(), parseInput(historyListInput, input ?? {}));
  }

  async fileHistory(input: ApiInputs["file"]["history"]): Promise<ApiOutputs["file"]["history"]> {
    return fileHistory(await this.core(), parseInput(fileHistoryInput, input));
  }

  async listSessions(input: ApiInputs["session"]["list"]): Promise<ApiOutputs["session"]["list"]> {
    return listSessions(await this.core(), parseInput(sessionListInput, input ?? {}));
  }
}
