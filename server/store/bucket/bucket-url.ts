/**
 * Where an S3-compatible bucket is, as the operator writes it in
 * SAFETYNET_OBJECT_STORE:
 *
 *   s3://<bucket>[/<prefix>][?endpoint=<http(s) URL>&region=<region>&forcePathStyle=true|false]
 *
 * Credentials never go here: they come from the AWS SDK's own chain
 * (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, ...), so that this value
 * can be printed, logged and shown on the dashboard as it is.
 */
import { z } from "zod";
import { InvalidInputError } from "../../errors";

export const OBJECT_STORE_SETTING = "SAFETYNET_OBJECT_STORE";

export interface BucketUrl {
  bucket: string;
  /** Folder inside the bucket every key lives under, without leading or trailing slashes; "" for the bucket's root. */
  prefix: string;
  /** An S3-compatible service (MinIO, Ceph RGW, R2, ...): origin and optional path, no trailing slash. Absent: AWS S3. */
  endpoint?: string;
  /** Absent only without an endpoint: the SDK then finds it (AWS_REGION, the profile). */
  region?: string;
  /** Path-style requests (`<endpoint>/<bucket>/<key>`), which most self-hosted services need. */
  forcePathStyle: boolean;
}

const SCHEME = /^s3:\/\//i;
const QUERY_PARAMETERS = ["endpoint", "region", "forcePathStyle"] as const;
type QueryParameter = (typeof QUERY_PARAMETERS)[number];

/** Does the setting name a bucket (rather than the local data directory)? Says nothing of whether it is valid: parseBucketUrl does. */
export function isBucketUrl(value: string): boolean {
  return SCHEME.test(value.trim());
}

/** The rules S3 gives general-purpose bucket names (a name it would refuse fails here, before any request). */
function bucketNameProblem(name: string): string | null {
  if (name.length < 3 || name.length > 63) return `bucket name "${name}" must be 3 to 63 characters long`;
  if (!/^[a-z0-9.-]+$/.test(name)) return `bucket name "${name}" may hold only lowercase letters, digits, dots and hyphens`;
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return `bucket name "${name}" must begin and end with a letter or digit`;
  if (name.includes("..")) return `bucket name "${name}" must not hold two dots in a row`;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return `bucket name "${name}" must not look like an IP address`;
  for (const reserved of ["xn--", "sthree-", "amzn-s3-demo-"]) if (name.startsWith(reserved)) return `bucket name "${name}" must not begin with "${reserved}" (reserved by S3)`;
  for (const reserved of ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]) if (name.endsWith(reserved)) return `bucket name "${name}" must not end with "${reserved}" (reserved by S3)`;
  return null;
}

// Only the characters S3 calls safe in keys: a prefix is an identifier the operator picks, and
// anything else (spaces, `%`, `\`, non-ASCII) is encoded differently by different tools.
const PREFIX_SEGMENT = /^[A-Za-z0-9!_.*'()-]+$/;
const MAX_PREFIX_BYTES = 512;

function prefixProblem(prefix: string): string | null {
  if (prefix === "") return null;
  if (Buffer.byteLength(prefix) > MAX_PREFIX_BYTES) return `prefix is longer than ${MAX_PREFIX_BYTES} bytes`;
  for (const segment of prefix.split("/")) {
    if (segment === "") return `prefix "${prefix}" has an empty folder (two slashes in a row)`;
    if (segment === "." || segment === "..") return `prefix "${prefix}" must not hold "." or ".." folders`;
    if (!PREFIX_SEGMENT.test(segment)) return `prefix "${prefix}" may hold only letters, digits, "/" and the characters !_.*'()-`;
  }
  return null;
}

/** The endpoint as it will be used, or a problem. Never echoes a URL that carries credentials. */
function parseEndpoint(raw: string): { endpoint: string } | { problem: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: `endpoint "${raw}" is not a URL (expected e.g. http://127.0.0.1:9000)` };
  }
  if (url.username !== "" || url.password !== "") return { problem: "endpoint must not carry credentials: give them through AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an AWS profile" };
  if (url.protocol !== "http:" && url.protocol !== "https:") return { problem: `endpoint "${raw}" must be an http:// or https:// URL` };
  if (url.hostname === "") return { problem: `endpoint "${raw}" names no host` };
  if (url.search !== "" || url.hash !== "") return { problem: `endpoint "${raw}" must not have a query or a fragment (URL-encode it if it is part of this setting)` };
  return { endpoint: `${url.origin}${url.pathname.replace(/\/+$/, "")}` };
}

const parts = z
  .object({
    bucket: z.string().superRefine((name, ctx) => {
      const problem = bucketNameProblem(name);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
    prefix: z.string().superRefine((prefix, ctx) => {
      const problem = prefixProblem(prefix);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
    endpoint: z.string().optional(),
    region: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: (issue) => `region "${String(issue.input)}" may hold only letters, digits, "-" and "_" (e.g. us-east-1, auto)` })
      .optional(),
    forcePathStyle: z.enum(["true", "false"], { error: (issue) => `forcePathStyle must be true or false, not "${String(issue.input)}"` }).optional(),
  })
  .transform((raw, ctx): BucketUrl => {
    let endpoint: string | undefined;
    if (raw.endpoint !== undefined) {
      const parsed = parseEndpoint(raw.endpoint);
      if ("problem" in parsed) {
        ctx.addIssue({ code: "custom", message: parsed.problem });
        return z.NEVER;
      }
      endpoint = parsed.endpoint;
    }
    // A self-hosted service almost always answers in us-east-1 and wants path-style requests; AWS
    // itself finds the region through the SDK's chain and prefers virtual-hosted requests.
    const region = raw.region ?? (endpoint !== undefined ? "us-east-1" : undefined);
    const forcePathStyle = raw.forcePathStyle !== undefined ? raw.forcePathStyle === "true" : endpoint !== undefined;
    return {
      bucket: raw.bucket,
      prefix: raw.prefix,
      ...(endpoint !== undefined ? { endpoint } : {}),
      ...(region !== undefined ? { region } : {}),
      forcePathStyle,
    };
  });

/** Parses the setting; throws InvalidInputError naming SAFETYNET_OBJECT_STORE and what is wrong. */
export function parseBucketUrl(value: string): BucketUrl {
  const trimmed = value.trim();
  if (!SCHEME.test(trimmed)) return refuse("expected s3://<bucket>[/<prefix>][?endpoint=<url>&region=<region>&forcePathStyle=true]");
  if (trimmed.includes("#")) return refuse('"#" has no meaning here (URL-encode it as %23 inside the endpoint)');
  const rest = trimmed.replace(SCHEME, "");
  const queryAt = rest.indexOf("?");
  const location = queryAt < 0 ? rest : rest.slice(0, queryAt);
  const query = queryAt < 0 ? "" : rest.slice(queryAt + 1);

  const slash = location.indexOf("/");
  const bucket = slash < 0 ? location : location.slice(0, slash);
  if (bucket.includes("@")) return refuse("credentials do not belong in this setting: give them through AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an AWS profile");
  if (bucket === "") return refuse("no bucket name after s3://");
  let prefix: string;
  try {
    prefix = decodeURIComponent(slash < 0 ? "" : location.slice(slash + 1)).replace(/^\/+|\/+$/g, "");
  } catch {
    return refuse("the prefix holds a malformed %-escape");
  }

  const raw: Partial<Record<QueryParameter, string>> & { bucket: string; prefix: string } = { bucket, prefix };
  for (const [name, parameterValue] of new URLSearchParams(query)) {
    if (!(QUERY_PARAMETERS as readonly string[]).includes(name)) return refuse(`unknown parameter "${name}" (known: ${QUERY_PARAMETERS.join(", ")})`);
    const known = name as QueryParameter;
    if (raw[known] !== undefined) return refuse(`parameter "${name}" is given twice`);
    raw[known] = parameterValue;
  }

  const result = parts.safeParse(raw);
  if (!result.success) return refuse(result.error.issues[0]?.message ?? "not a bucket URL");
  return result.data;
}

function refuse(problem: string): never {
  throw new InvalidInputError(`invalid ${OBJECT_STORE_SETTING}: ${problem}`, { field: OBJECT_STORE_SETTING });
}

/** `s3://bucket/prefix`: what messages name. */
export function bucketLocation(url: BucketUrl): string {
  return url.prefix === "" ? `s3://${url.bucket}` : `s3://${url.bucket}/${url.prefix}`;
}

/** `s3://bucket/prefix (endpoint http://host:9000)`: for logs and status lines. Never credentials (the setting holds none). */
export function describeBucket(url: BucketUrl): string {
  if (url.endpoint !== undefined) return `${bucketLocation(url)} (endpoint ${url.endpoint})`;
  return url.region !== undefined ? `${bucketLocation(url)} (AWS S3, ${url.region})` : `${bucketLocation(url)} (AWS S3)`;
}
