/**
 * SafetyNetClient over HTTP: the tRPC API at <url>/api/trpc through @trpc/client
 * (httpLink, plain JSON, no transformer, `Authorization: Bearer <token>`). Used by
 * the MCP server and by every CLI command in remote mode (--url / SAFETYNET_URL).
 *
 * API errors become the core's typed errors, so the CLI's exit codes and --json
 * error objects are the same as in local mode:
 *   400 / 413 / 415 -> InvalidInputError (exit 2)   404 -> NotFoundError (exit 5)
 *   409 -> ConflictError (exit 3)                    422 -> IntegrityError (exit 4)
 *   507 -> InsufficientStorageError (exit 1)
 *   401 / 403 / 5xx / unreachable -> OperationFailedError (exit 1), the message says
 *   "authentication failed" / "permission denied" / what went wrong.
 *
 * A request that failed before any response arrived is sent once more when that
 * is safe (retryableFailure): a query always (it changes nothing), a mutation only
 * when the connection was refused, so the server cannot have seen it. A kept-alive
 * connection the server closes just as a request goes out is the usual cause.
 */
import { Readable } from "node:stream";
import { createTRPCClient, httpLink, TRPCClientError, type TRPCClient } from "@trpc/client";
import type { AppRouter } from "../api/root";
import { ConflictError, IntegrityError, InvalidInputError, NotFoundError, OperationFailedError, type SafetyNetError, InsufficientStorageError } from "../errors";
import type { ArchiveFormat } from "../schemas";
import type { ArchiveNote } from "../checkpoints/zip-names";
import type { ApiInputs, ApiOutputs, RemoteTarget, SafetyNetClient } from "./client";

/** `http://host:3000`, `http://host:3000/`, `http://host:3000/api/trpc` -> `http://host:3000/api/trpc`. */
export function trpcEndpoint(url: string): string {
  const base = url.replace(/\/+$/, "");
  return /\/api\/trpc$/.test(base) ? base : `${base}/api/trpc`;
}

/** The response was not the API's JSON (a web page, a proxy error): the URL points elsewhere. */
class NotTheApiError extends Error {
  constructor(readonly status: number, readonly contentType: string) {
    super(`HTTP ${status} with ${contentType || "no content type"} instead of JSON`);
  }
}

interface ApiErrorData {
  code?: string;
  httpStatus?: number;
  field?: string | null;
  safetynetCode?: string | null;
  details?: Record<string, unknown> | null;
}

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const inner = (cause as Error & { cause?: unknown }).cause;
  const innerText = inner instanceof Error ? (inner as NodeJS.ErrnoException).code ?? inner.message : undefined;
  return innerText && !cause.message.includes(innerText) ? `${cause.message} (${innerText})` : cause.message;
}

/** Turns what @trpc/client throws into the core's typed error (see the table above). */
export function toSafetyNetError(error: unknown, url: string): SafetyNetError {
  if (!(error instanceof TRPCClientError)) {
    return new OperationFailedError(`request to ${url} failed: ${describeCause(error)}`, { url });
  }
  const data = (error.data ?? undefined) as ApiErrorData | undefined;
  const status = data?.httpStatus;
  if (typeof status !== "number") {
    const cause = error.cause;
    if (cause instanceof NotTheApiError) {
      return new OperationFailedError(`the server at ${url} did not answer like a Safety Net API (${cause.message}); check --url / SAFETYNET_URL`, {
        url,
        httpStatus: cause.status,
      });
    }
    return new OperationFailedError(`cannot reach the Safety Net server at ${url}: ${describeCause(cause ?? error)}`, { url });
  }
  const details: Record<string, unknown> = {
    ...(data?.details ?? {}),
    httpStatus: status,
    ...(data?.code ? { apiCode: data.code } : {}),
    ...(data?.field ? { field: data.field } : {}),
  };
  return errorForHttpStatus(status, error.message, details);
}

/** An API error response (status, the server's message) as the core's typed error: the table at the top. */
export function errorForHttpStatus(status: number, message: string, details: Record<string, unknown> = {}): SafetyNetError {
  switch (status) {
    case 400:
    case 413:
    case 415:
      return new InvalidInputError(message, details);
    case 401:
      return new OperationFailedError(`authentication failed: ${message} (HTTP 401); check --token / SAFETYNET_TOKEN`, details);
    case 403:
      return new OperationFailedError(`permission denied: ${message} (HTTP 403)`, details);
    case 404:
      return new NotFoundError(message, details);
    case 409:
      return new ConflictError(message, details);
    case 422:
      return new IntegrityError(message, details);
    case 507:
      return new InsufficientStorageError(message, details);
    default:
      return new OperationFailedError(status >= 500 ? `the server failed: ${message} (HTTP ${status})` : `${message} (HTTP ${status})`, details);
  }
}

/** Connection errors that mean the request never reached the server. */
const NEVER_CONNECTED = new Set(["ECONNREFUSED"]);

/**
 * Whether a request that failed with `error` before any response (fetch rejects
 * only then) may be sent again: always for GET (queries), and for other methods
 * only when the connection was never made.
 */
export function retryableFailure(method: string, error: unknown): boolean {
  if (!(error instanceof TypeError)) return false; // fetch's network failure; anything else is not a transport problem
  if (method === "GET" || method === "HEAD") return true;
  const code = ((error as Error & { cause?: { code?: unknown } }).cause?.code ?? "") as string;
  return NEVER_CONNECTED.has(code);
}

/** fetch, once more when the first attempt failed before any response and retrying is safe. */
export async function fetchWithRetry(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(input, init);
  } catch (error) {
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    if (!retryableFailure(method, error) || init?.signal?.aborted) throw error;
    return fetch(input, init);
  }
}

export class RemoteClient implements SafetyNetClient {
  readonly mode = "remote" as const;
  readonly target: string;
  private readonly trpc: TRPCClient<AppRouter>;

  private readonly baseUrl: string;
  private readonly token: string;

  constructor(remote: RemoteTarget) {
    this.target = remote.url;
    this.baseUrl = trpcEndpoint(remote.url).replace(/\/api\/trpc$/, "");
    this.token = remote.token;
    this.trpc = createTRPCClient<AppRouter>({
      links: [
        httpLink({
          url: trpcEndpoint(remote.url),
          headers: { authorization: `Bearer ${remote.token}` },
          fetch: async (input, init) => {
            const response = await fetchWithRetry(input, init);
            const contentType = response.headers.get("content-type") ?? "";
            if (!/json/i.test(contentType)) {
              await response.body?.cancel().catch(() => undefined);
              throw new NotTheApiError(response.status, contentType);
            }
            return response;
          },
        }),
      ],
    });
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw toSafetyNetError(error, this.target);
    }
  }

  listComponents(): Promise<ApiOutputs["component"]["list"]> {
    return this.call(() => this.trpc.component.list.query());
  }

  upsertComponent(input: ApiInputs["component"]["upsert"]): Promise<ApiOutputs["component"]["upsert"]> {
    return this.call(() => this.trpc.component.upsert.mutate(input));
  }

  createCheckpoint(input: ApiInputs["checkpoint"]["create"]): Promise<ApiOutputs["checkpoint"]["create"]> {
    return this.call(() => this.trpc.checkpoint.create.mutate(input));
  }

  listCheckpoints(input: ApiInputs["checkpoint"]["list"]): Promise<ApiOutputs["checkpoint"]["list"]> {
    return this.call(() => this.trpc.checkpoint.list.query(input));
  }

  getCheckpoint(input: ApiInputs["checkpoint"]["get"]): Promise<ApiOutputs["checkpoint"]["get"]> {
    return this.call(() => this.trpc.checkpoint.get.query(input));
  }

  checkpointEntries(input: ApiInputs["checkpoint"]["entries"]): Promise<ApiOutputs["checkpoint"]["entries"]> {
    return this.call(() => this.trpc.checkpoint.entries.query(input));
  }

  diffCheckpoint(input: ApiInputs["checkpoint"]["diff"]): Promise<ApiOutputs["checkpoint"]["diff"]> {
    return this.call(() => this.trpc.checkpoint.diff.query(input));
  }

  verifyCheckpoint(input: ApiInputs["checkpoint"]["verify"]): Promise<ApiOutputs["checkpoint"]["verify"]> {
    return this.call(() => this.trpc.checkpoint.verify.mutate(input));
  }

  planRollback(input: ApiInputs["rollback"]["plan"]): Promise<ApiOutputs["rollback"]["plan"]> {
    return this.call(() => this.trpc.rollback.plan.mutate(input));
  }

  executeRollback(input: ApiInputs["rollback"]["execute"]): Promise<ApiOutputs["rollback"]["execute"]> {
    return this.call(() => this.trpc.rollback.execute.mutate(input));
  }

  listHistory(input: ApiInputs["history"]["list"]): Promise<ApiOutputs["history"]["list"]> {
    return this.call(() => this.trpc.history.list.query(input));
  }

  fileHistory(input: ApiInputs["file"]["history"]): Promise<ApiOutputs["file"]["history"]> {
    return this.call(() => this.trpc.file.history.query(input));
  }

  listSessions(input: ApiInputs["session"]["list"]): Promise<ApiOutputs["session"]["list"]> {
    return this.call(() => this.trpc.session.list.query(input));
  }

  /**
   * GET /api/checkpoints/<id>/archive: the archive's bytes as they arrive. A refusal
   * before the first byte is the core's typed error; a download the server cuts
   * short (a damaged object found while streaming) fails the iteration.
   */
  /** The archive's bytes, and its notes: names a zip had to escape, files left out (from the response headers; the archive lists them all). */
  async downloadArchive(checkpointId: string, format: ArchiveFormat, options: { intact?: boolean } = {}): Promise<{ stream: AsyncIterable<Uint8Array>; notes: ArchiveNote[]; noteCount: number }> {
    const url = `${this.baseUrl}/api/checkpoints/${encodeURIComponent(checkpointId)}/archive?format=${encodeURIComponent(format)}${options.intact ? "&intact=1" : ""}`;
    let response: Response;
    try {
      response = await fetch(url, { headers: { authorization: `Bearer ${this.token}` } });
    } catch (error) {
      throw toSafetyNetError(error, this.target);
    }
    if (response.status !== 200 || !response.body) {
      const text = await response.text().catch(() => "");
      let body: { error?: { message?: string; data?: ApiErrorData } } = {};
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        throw new OperationFailedError(`the server at ${this.target} did not answer like a Safety Net API (HTTP ${response.status}); check --url / SAFETYNET_URL`, { url });
      }
      throw errorForHttpStatus(response.status, body.error?.message ?? `HTTP ${response.status}`, { ...(body.error?.data?.details ?? {}), httpStatus: response.status });
    }
    const stream = Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>);
    const header = response.headers.get("x-safetynet-notes");
    let notes: ArchiveNote[] = [];
    try {
      notes = header ? (JSON.parse(decodeURIComponent(header)) as ArchiveNote[]) : [];
    } catch {
      // A header this client cannot read leaves the list inside the archive as the record.
    }
    return { stream, notes, noteCount: Number(response.headers.get("x-safetynet-notes-count") ?? notes.length) || 0 };
  }
}
