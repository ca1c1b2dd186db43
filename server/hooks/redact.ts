/**
 * What a hook may keep of an agent's command or prompt: secrets replaced by
 * [REDACTED] (before anything is shortened, so a secret cut in half cannot slip
 * past a pattern), then at most HOOK_TEXT_LIMIT characters. Applied to every text
 * a hook event brings before it reaches a checkpoint's reason or metadata.
 */

export const REDACTED = "[REDACTED]";
export const HOOK_TEXT_LIMIT = 200;

/** Names that hold a secret when they are assigned a value: API_KEY=..., --password ..., "token": ... */
const SECRET_NAME = String.raw`[A-Za-z0-9_.-]*(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|auth|session[_-]?id|cookie|signature)[A-Za-z0-9_.-]*`;

const PATTERNS: [RegExp, string | ((...groups: string[]) => string)][] = [
  // PEM private keys, whole.
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED],
  // Authorization headers: "Bearer x" in any case; "Basic x" and "Token x" as the scheme is spelled (so "the token refresh" stays).
  [/\b(Bearer)(\s+)[A-Za-z0-9._~+/=-]{4,}/gi, (_m, scheme: string, space: string) => `${scheme}${space}${REDACTED}`],
  [/\b(Basic|Token)(\s+)[A-Za-z0-9._~+/=-]{8,}/g, (_m, scheme: string, space: string) => `${scheme}${space}${REDACTED}`],
  // Credentials in URLs: scheme://user:password@host.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):[^\s@/]+@/gi, (_m, head: string) => `${head}:${REDACTED}@`],
  // curl -u user:password / --user user:password.
  [/(\s(?:-u|--user)\s+)([^\s:]+):(\S+)/g, (_m, flag: string, user: string) => `${flag}${user}:${REDACTED}`],
  // NAME=value, NAME: value, "NAME": "value" and --name value / --name=value where NAME says it is a secret.
  [
    new RegExp(String.raw`(["']?\b${SECRET_NAME}["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s"',;&|)]+)`, "gi"),
    (_m, head: string) => `${head}${REDACTED}`,
  ],
  [new RegExp(String.raw`(--${SECRET_NAME}\s+)("[^"]*"|'[^']*'|[^\s-]\S*)`, "gi"), (_m, head: string) => `${head}${REDACTED}`],
  // Token shapes recognized on their own: AWS access key ids, GitHub, Slack, OpenAI/Anthropic-style, Google API keys, JWTs.
  [/\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g, REDACTED],
  [/\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b/g, REDACTED],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/g, REDACTED],
  [/\bsk-[A-Za-z0-9_-]{16,}/g, REDACTED],
  [/\bAIza[0-9A-Za-z_-]{30,}/g, REDACTED],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, REDACTED],
];

/** `text` with every secret the patterns recognize replaced by [REDACTED]. */
export function redactSecrets(text: string): string {
  let result = text;
  for (const [pattern, replacement] of PATTERNS) {
    result = typeof replacement === "string" ? result.replace(pattern, replacement) : result.replace(pattern, replacement as (...groups: string[]) => string);
  }
  return result;
}

/** Redacted, then shortened to `limit` characters (an ellipsis says it was). */
export function redactAndTruncate(text: string, limit = HOOK_TEXT_LIMIT): string {
  const redacted = redactSecrets(text);
  return redacted.length <= limit ? redacted : `${redacted.slice(0, limit - 1)}…`;
}
