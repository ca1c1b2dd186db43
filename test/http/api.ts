/**
 * A bare fetch client for the tRPC HTTP API, the way an agent in any language
 * calls it: POST /api/trpc/<procedure> with a JSON body for mutations,
 * GET /api/trpc/<procedure>?input=<JSON> for queries. No tRPC client library.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";

export interface ApiError {
  message: string;
  code: number;
  data: { code: string; httpStatus: number; path: string | null; field: string | null; safetynetCode: string | null; details: Record<string, unknown> | null };
}

export interface ApiResponse<T = unknown> {
  status: number;
  data: T;
  error: ApiError | null;
  headers: Headers;
}

export class Api {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
    readonly extraHeaders: Record<string, string> = {},
  ) {}

  as(token: string | undefined): Api {
    return new Api(this.baseUrl, token, this.extraHeaders);
  }

  private headers(json: boolean): Record<string, string> {
    return {
      ...(json ? { "content-type": "application/json" } : {}),
      ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      ...this.extraHeaders,
    };
  }

  private async parse<T>(response: Response): Promise<ApiResponse<T>> {
    const text = await response.text();
    let body: { result?: { data?: T }; error?: ApiError } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`non-JSON response ${response.status}: ${text.slice(0, 500)}`);
    }
    return { status: response.status, data: body.result?.data as T, error: body.error ?? null, headers: response.headers };
  }

  async query<T = unknown>(procedure: string, input?: unknown): Promise<ApiResponse<T>> {
    const qs = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    return this.parse<T>(await fetch(`${this.baseUrl}/api/trpc/${procedure}${qs}`, { headers: this.headers(false) }));
  }

  async mutation<T = unknown>(procedure: string, input?: unknown): Promise<ApiResponse<T>> {
    return this.parse<T>(
      await fetch(`${this.baseUrl}/api/trpc/${procedure}`, { method: "POST", headers: this.headers(true), body: input === undefined ? undefined : JSON.stringify(input) }),
    );
  }

  /** A query that must succeed; returns its data. */
  async get<T = Record<string, unknown>>(procedure: string, input?: unknown): Promise<T> {
    return ok(await this.query<T>(procedure, input), procedure);
  }

  /** A mutation that must succeed; returns its data. */
  async call<T = Record<string, unknown>>(procedure: string, input?: unknown): Promise<T> {
    return ok(await this.mutation<T>(procedure, input), procedure);
  }
}

export function ok<T>(response: ApiResponse<T>, what: string): T {
  if (response.status !== 200) throw new Error(`${what}: expected 200, got ${response.status}: ${JSON.stringify(response.error)}`);
  return response.data;
}

/** Asserts an error status and returns the error. */
export function expectError(response: ApiResponse, status: number): ApiError {
  expect(response.status, JSON.stringify(response.error ?? response.data)).toBe(status);
  expect(response.error).not.toBeNull();
  expect(response.error?.data.httpStatus).toBe(status);
  return response.error as ApiError;
}

let unique = 0;
/** A name unique within this run (components and tokens share one server across test files). */
export function uniqueName(prefix: string): string {
  unique++;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${unique}`;
}

export interface CreatedToken {
  name: string;
  token: string;
  role: string;
  components: string[];
}

export async function createToken(admin: Api, role: "viewer" | "agent" | "operator" | "admin", components?: string[]): Promise<CreatedToken> {
  return admin.call<CreatedToken>("auth.createToken", { name: uniqueName(role), role, components });
}

/** Writes files (relative path -> content) under root. */
export function writeTree(root: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(root, rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, content);
  }
}

/** sha256 of every regular file under root, by relative POSIX path. */
export function hashTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const abs = path.join(dir, name);
      const stat = statSync(abs);
      if (stat.isDirectory()) walk(abs);
      else if (stat.isFile()) out[path.relative(root, abs).split(path.sep).join("/")] = createHash("sha256").update(readFileSync(abs)).digest("hex");
    }
  };
  walk(root);
  return out;
}

/** Registers a component rooted at <workspace>/<name> holding `files`; returns its name and root. */
export async function makeComponent(operator: Api, workspace: string, files: Record<string, string | Buffer>, name = uniqueName("cmp")): Promise<{ name: string; root: string }> {
  const root = path.join(workspace, name);
  mkdirSync(root, { recursive: true });
  writeTree(root, files);
  await operator.call("component.upsert", { name, root });
  return { name, root };
}
