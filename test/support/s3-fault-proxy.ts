/**
 * An HTTP proxy in front of a test S3 server that misbehaves on request: the next
 * N requests (optionally only those of one method, path pattern or header) are
 * answered with an S3 error (500 InternalError, 503 SlowDown, 403 AccessDenied,
 * with S3's XML body), an answer of the test's own, a reset connection (before any answer, or part-way into
 * the answer's body), or silence. Everything else passes through untouched, and
 * every request is recorded, so tests can check what the client sent (retries,
 * ranges, batches, headers).
 *
 * Signatures survive the trip: the request goes upstream with its own Host
 * header, which is what the client signed.
 *
 * With `honourIfNoneMatch`, it also plays a service that honours conditional
 * writes (s3rver ignores If-None-Match): a PUT or a multipart completion with
 * If-None-Match: * for a path already written through it gets 412.
 */
import http from "node:http";
import { listenOnLoopback } from "./loopback-server";

export type S3Fault =
  /** An S3 error answer, with S3's XML body (none for HEAD). */
  | { kind: "error"; status: number; code: string; message: string }
  /** Any answer, given whole (a 200 DeleteResult listing per-key errors, ...). */
  | { kind: "reply"; status: number; body: string }
  /** The connection is reset (RST) before any answer. */
  | { kind: "reset" }
  /** The answer's head and its first `afterBytes` body bytes pass, then the connection is reset. */
  | { kind: "reset-mid-body"; afterBytes: number }
  /** No answer: the request is held (for `ms`, then passed on; by default until the proxy closes). */
  | { kind: "stall"; ms?: number };

export const FAULTS = {
  internalError: { kind: "error", status: 500, code: "InternalError", message: "We encountered an internal error. Please try again." },
  slowDown: { kind: "error", status: 503, code: "SlowDown", message: "Please reduce your request rate." },
  accessDenied: { kind: "error", status: 403, code: "AccessDenied", message: "Access Denied" },
  notImplemented: { kind: "error", status: 501, code: "NotImplemented", message: "A header you provided implies functionality that is not implemented." },
  reset: { kind: "reset" },
  stall: { kind: "stall" },
} as const satisfies Record<string, S3Fault>;

export interface FaultRule {
  fault: S3Fault;
  /** How many matching requests get it (default 1; Infinity: until cleared). */
  times?: number;
  /** Only requests of this method (GET, PUT, HEAD, POST, DELETE). */
  method?: string;
  /** Only requests whose path and query (`/bucket/prefix/key?x-id=GetObject`) match. */
  path?: RegExp;
  /** Only requests that carry this header (lowercase name). */
  header?: string;
}

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: http.IncomingHttpHeaders;
  /** POST bodies (DeleteObjects, multipart completion): small XML, kept as text. */
  body?: string;
  /** The fault served instead of the real answer, if any. */
  fault: S3Fault["kind"] | null;
  /** The status answered (by the fault or the server); absent while there is none (a reset, a stall). */
  status?: number;
}

export interface S3FaultProxy {
  /** http://127.0.0.1:<port>: use it as the bucket URL's endpoint. */
  endpoint: string;
  inject(rule: FaultRule): void;
  /** Drops the rules not used up yet. */
  clear(): void;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Faults served so far. */
  faultsServed(): number;
  close(): Promise<void>;
}

function errorBody(fault: Extract<S3Fault, { kind: "error" }>, resource: string): string {
  const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${fault.code}</Code><Message>${escape(fault.message)}</Message><Resource>${escape(resource)}</Resource><RequestId>FAULTPROXY</RequestId></Error>`;
}

export async function startS3FaultProxy(upstream: string, options: { honourIfNoneMatch?: boolean } = {}): Promise<S3FaultProxy> {
  const target = new URL(upstream);
  // A connection per request upstream: s3rver closes idle connections after 5 s, and a request
  // sent on one just as it closes would fail here for reasons no test is about.
  const agent = new http.Agent({ keepAlive: false });
  const rules: (FaultRule & { left: number })[] = [];
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  /** Object paths written through the proxy and not deleted since (for honourIfNoneMatch). */
  const written = new Set<string>();
  let served = 0;

  const objectPath = (url: string) => decodeURIComponent(url.split("?")[0] ?? "");

  function takeFault(req: http.IncomingMessage): S3Fault | null {
    const rule = rules.find(
      (r) => r.left > 0 && (r.method === undefined || r.method === req.method) && (r.path === undefined || r.path.test(req.url ?? "")) && (r.header === undefined || req.headers[r.header] !== undefined),
    );
    if (!rule) return null;
    rule.left--;
    served++;
    return rule.fault;
  }

  function answerError(req: http.IncomingMessage, res: http.ServerResponse, fault: Extract<S3Fault, { kind: "error" }>): void {
    // Read the request to its end first: answering mid-upload would make the client's write fail instead.
    req.resume();
    req.on("end", () => {
      const body = req.method === "HEAD" ? "" : errorBody(fault, objectPath(req.url ?? ""));
      res.writeHead(fault.status, { "content-type": "application/xml", "content-length": Buffer.byteLength(body), "x-amz-request-id": "FAULTPROXY" });
      res.end(req.method === "HEAD" ? undefined : body);
    });
  }

  function passThrough(req: http.IncomingMessage, res: http.ServerResponse, record: RecordedRequest, body: Buffer | null, resetAfter: number | null): void {
    if (req.socket.destroyed) return;
    const path = objectPath(req.url ?? "");
    const outgoing = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
      const status = answer.statusCode ?? 502;
      record.status = status;
      if (status < 300 && req.method === "PUT" && !(req.url ?? "").includes("uploadId=")) written.add(path);
      if (status < 300 && req.method === "POST" && (req.url ?? "").includes("uploadId=")) written.add(path);
      if (status < 300 && req.method === "DELETE") written.delete(path);
      if (status < 300 && req.method === "POST" && (req.url ?? "").includes("?delete") && body !== null) {
        for (const [, key] of body.toString("utf8").matchAll(/<Key>([^<]*)<\/Key>/g)) written.delete(`${path}/${key}`);
      }
      res.writeHead(status, answer.headers);
      if (resetAfter === null) {
        answer.pipe(res);
        return;
      }
      let passed = 0;
      answer.on("data", (chunk: Buffer) => {
        if (passed >= resetAfter) return;
        const part = chunk.subarray(0, resetAfter - passed);
        passed += part.length;
        if (passed < resetAfter) {
          res.write(part);
          return;
        }
        answer.destroy();
        // The bytes so far leave first, then the reset.
        res.write(part, () => {
          if (!req.socket.destroyed) req.socket.resetAndDestroy();
        });
      });
      answer.on("end", () => res.end());
    });
    outgoing.on("error", () => res.destroy());
    if (body !== null) outgoing.end(body);
    else req.pipe(outgoing);
  }

  const server = http.createServer((req, res) => {
    res.on("error", () => undefined);
    req.on("error", () => undefined);
    const record: RecordedRequest = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, fault: null };
    requests.push(record);
    const fault = takeFault(req);
    record.fault = fault?.kind ?? null;
    if (fault?.kind === "error") {
      record.status = fault.status;
      return answerError(req, res, fault);
    }
    if (fault?.kind === "reply") {
      record.status = fault.status;
      req.resume();
      req.on("end", () => {
        res.writeHead(fault.status, { "content-type": "application/xml", "content-length": Buffer.byteLength(fault.body) });
        res.end(fault.body);
      });
      return;
    }
    if (fault?.kind === "reset") {
      req.socket.resetAndDestroy();
      return;
    }
    if (fault?.kind === "stall") {
      if (fault.ms === undefined) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        passThrough(req, res, record, null, null);
      }, fault.ms);
      timers.add(timer);
      return;
    }
    const resetAfter = fault?.kind === "reset-mid-body" ? fault.afterBytes : null;
    const conditional = req.headers["if-none-match"] === "*" && (req.method === "PUT" || req.method === "POST");
    if (req.method !== "POST" && !conditional) return passThrough(req, res, record, null, resetAfter);
    // Small bodies (batch deletes, multipart completion, conditional puts in tests) are read whole: recorded, then sent on.
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (req.method === "POST") record.body = body.toString("utf8");
      if (options.honourIfNoneMatch && conditional && written.has(objectPath(req.url ?? ""))) {
        const precondition = { kind: "error", status: 412, code: "PreconditionFailed", message: "At least one of the pre-conditions you specified did not hold" } as const;
        const xml = errorBody(precondition, objectPath(req.url ?? ""));
        record.status = 412;
        res.writeHead(412, { "content-type": "application/xml", "content-length": Buffer.byteLength(xml) });
        res.end(xml);
        return;
      }
      passThrough(req, res, record, body, resetAfter);
    });
  });
  // Longer than any pause in a test: the client's idle connections stay usable.
  server.keepAliveTimeout = 60_000;
  const listening = await listenOnLoopback(server);
  return {
    endpoint: `http://127.0.0.1:${listening.port}`,
    inject: (rule) => rules.push({ ...rule, left: rule.times ?? 1 }),
    clear: () => rules.splice(0, rules.length),
    requests,
    faultsServed: () => served,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      await listening.close();
      agent.destroy();
    },
  };
}
