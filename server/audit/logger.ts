/**
 * Structured JSON logs (pino). The server logs to stdout; the CLI appends to
 * <data dir>/logs/safetynet.log so its stdout stays clean for --json.
 */
import pino, { type Logger } from "pino";

export function createLogger(file?: string): Logger {
  const level = process.env.SAFETYNET_LOG_LEVEL ?? "info";
  // The log names paths and checkpoint reasons: private like the rest of the data directory.
  const destination = file ? pino.destination({ dest: file, sync: true, mkdir: true, mode: 0o600 }) : pino.destination({ dest: 1, sync: true });
  return pino({ level, base: { service: "safetynet" }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}
