/**
 * What an S3 failure means for the caller, said once: which failures are worth
 * another attempt (5xx, throttling, resets, time-outs), and the error the core
 * reports after the last one, naming the operation, the object and the answer:
 *
 *   S3 GET s3://b/p/objects/ab/abc… failed after 5 attempts: 503 SlowDown
 */
import { InvalidInputError, OperationFailedError, SafetyNetError, StorageUnavailableError } from "../../errors";
import { OBJECT_STORE_SETTING } from "./bucket-url";

/** What the SDK hangs on the errors it throws (service answers and network failures alike). */
interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: unknown; attempts?: unknown };
}

function shape(error: unknown): SdkErrorShape {
  return error !== null && typeof error === "object" ? (error as SdkErrorShape) : {};
}

/** The HTTP status the service answered with; undefined when there was no answer (reset, time-out). */
export function s3Status(error: unknown): number | undefined {
  const status = shape(error).$metadata?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

/** S3's error code (`SlowDown`, `NoSuchKey`, `AccessDenied`), else Node's errno code (`ECONNRESET`), else the error's name. */
export function s3ErrorCode(error: unknown): string {
  const { name, code } = shape(error);
  if (s3Status(error) !== undefined && typeof name === "string" && name !== "Error" && name !== "S3ServiceException") return name;
  if (typeof code === "string") return code;
  return typeof name === "string" ? name : "Error";
}

function attemptsOf(error: unknown): number {
  const attempts = shape(error).$metadata?.attempts;
  return typeof attempts === "number" && attempts > 0 ? attempts : 1;
}

const THROTTLING = new Set(["SlowDown", "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled", "RequestThrottledException", "TooManyRequestsException", "RequestLimitExceeded", "ProvisionedThroughputExceededException", "BandwidthLimitExceeded", "EC2ThrottledException", "PriorRequestNotComplete"]);
const NETWORK = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ECONNABORTED", "ERR_STREAM_PREMATURE_CLOSE", "TimeoutError", "RequestTimeout", "RequestTimeoutException", "TruncatedBody"]);

/** Would the same request be worth sending again later: the service is busy, down or slow, not refusing? */
export function isTransientS3Error(error: unknown): boolean {
  const status = s3Status(error);
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  const code = s3ErrorCode(error);
  if (THROTTLING.has(code) || NETWORK.has(code)) return true;
  const { name, message } = shape(error);
  return status === undefined && (name === "TimeoutError" || (typeof message === "string" && /socket hang up|aborted/i.test(message)));
}

/** A body that ended before its Content-Length: the connection dropped without an error event. */
export class TruncatedBodyError extends Error {
  readonly code = "TruncatedBody";
  constructor(received: number, expected: number) {
    super(`the answer ended after ${received} of ${expected} bytes`);
    this.name = "TruncatedBodyError";
  }
}

export interface S3OperationContext {
  /** GET, PUT, HEAD, LIST, DELETE, ... */
  operation: string;
  /** s3://bucket/prefix/key (or the bucket's location for LIST and batch deletes). */
  target: string;
  /** The inactivity limit, for a time-out's message. */
  timeoutMs: number;
  /** Attempts made, when the caller counted them itself (a download's body retries). */
  attempts?: number;
}

/** `503 SlowDown`, `403 AccessDenied`, `ECONNRESET (connection reset)`, `no data for 30000 ms (timed out)`. */
export function describeS3Answer(error: unknown, timeoutMs: number): string {
  const status = s3Status(error);
  const code = s3ErrorCode(error);
  if (status !== undefined) return `${status} ${code}`;
  if (code === "TimeoutError" || code === "ETIMEDOUT" || shape(error).name === "TimeoutError") return `no answer for ${timeoutMs} ms (timed out)`;
  if (code === "ECONNRESET") return "ECONNRESET (connection reset)";
  if (code === "ECONNREFUSED") return "ECONNREFUSED (nothing listens at the endpoint)";
  if (code === "TruncatedBody") return String(shape(error).message);
  const message = shape(error).message;
  return typeof message === "string" && message !== "" && message !== code ? `${code}: ${message}` : code;
}

/**
 * The core error for a failed S3 call: StorageUnavailableError when the service
 * was busy, down or silent through every attempt; OperationFailedError when it
 * refused (403, 404 NoSuchBucket, 400); InvalidInputError when the setting or
 * the environment lacks what the SDK needs (a region, credentials).
 */
export function describeS3Error(error: unknown, context: S3OperationContext): SafetyNetError {
  if (error instanceof SafetyNetError) return error;
  const status = s3Status(error);
  const code = s3ErrorCode(error);
  const message = String(shape(error).message ?? "");
  const details = { operation: context.operation, target: context.target, status: status ?? null, code };
  if (status === undefined && /region is missing/i.test(message)) {
    return new InvalidInputError(`invalid ${OBJECT_STORE_SETTING}: no region for ${context.target}: add ?region=<region> to it or set AWS_REGION`, { ...details, field: OBJECT_STORE_SETTING }, { cause: error });
  }
  if (status === undefined && (shape(error).name === "CredentialsProviderError" || /could not load credentials/i.test(message))) {
    return new OperationFailedError(
      `no AWS credentials for ${context.target}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (${message})`,
      details,
      { cause: error },
    );
  }
  const attempts = context.attempts ?? attemptsOf(error);
  const tries = attempts > 1 ? ` after ${attempts} attempts` : "";
  const text = `S3 ${context.operation} ${context.target} failed${tries}: ${describeS3Answer(error, context.timeoutMs)}`;
  if (isTransientS3Error(error)) return new StorageUnavailableError(text, { ...details, attempts }, { cause: error });
  return new OperationFailedError(text, { ...details, attempts }, { cause: error });
}
