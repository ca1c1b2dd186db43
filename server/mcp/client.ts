/**
 * SafetyNetClient: the operations an agent hook needs (the MCP server, `safetynet
 * guard`, the CLI's remote mode), with one shape whoever serves them:
 *
 *   LocalClient  (./local-client.ts)   calls the core on a data directory
 *   RemoteClient (./remote-client.ts)  calls the tRPC HTTP API with @trpc/client
 *
 * Inputs and outputs are the tRPC procedures' own types (inferred from AppRouter),
 * so the local implementation is checked against the API contract by the compiler.
 * This module holds types only: importing it loads nothing.
 */
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../api/root";

export type ApiInputs = inferRouterInputs<AppRouter>;
export type ApiOutputs = inferRouterOutputs<AppRouter>;

export interface SafetyNetClient {
  /** "local" (a data directory) or "remote" (a server URL). */
  readonly mode: "local" | "remote";
  /** The data directory or the server URL, for messages. */
  readonly target: string;

  listComponents(): Promise<ApiOutputs["component"]["list"]>;
  upsertComponent(input: ApiInputs["component"]["upsert"]): Promise<ApiOutputs["component"]["upsert"]>;

  createCheckpoint(input: ApiInputs["checkpoint"]["create"]): Promise<ApiOutputs["checkpoint"]["create"]>;
  listCheckpoints(input: ApiInputs["checkpoint"]["list"]): Promise<ApiOutputs["checkpoint"]["list"]>;
  getCheckpoint(input: ApiInputs["checkpoint"]["get"]): Promise<ApiOutputs["checkpoint"]["get"]>;
  checkpointEntries(input: ApiInputs["checkpoint"]["entries"]): Promise<ApiOutputs["checkpoint"]["entries"]>;
  diffCheckpoint(input: ApiInputs["checkpoint"]["diff"]): Promise<ApiOutputs["checkpoint"]["diff"]>;
  verifyCheckpoint(input: ApiInputs["checkpoint"]["verify"]): Promise<ApiOutputs["checkpoint"]["verify"]>;

  /** The plan and a single-use confirmToken bound to it (expires; refused if the workspace changes). */
  planRollback(input: ApiInputs["rollback"]["plan"]): Promise<ApiOutputs["rollback"]["plan"]>;
  /** Performs the rollback a planRollback confirmToken confirms. */
  executeRollback(input: ApiInputs["rollback"]["execute"]): Promise<ApiOutputs["rollback"]["execute"]>;

  listHistory(input: ApiInputs["history"]["list"]): Promise<ApiOutputs["history"]["list"]>;
  /** Every checkpoint in which one path changed, newest first. */
  fileHistory(input: ApiInputs["file"]["history"]): Promise<ApiOutputs["file"]["history"]>;
  /** Checkpoints grouped by task (an agent's session), latest activity first. */
  listSessions(input: ApiInputs["session"]["list"]): Promise<ApiOutputs["session"]["list"]>;
}

/** A server to talk to instead of a data directory. */
export interface RemoteTarget {
  /** The server's base URL (http://127.0.0.1:3000); `/api/trpc` is appended unless present. */
  url: string;
  token: string;
}
