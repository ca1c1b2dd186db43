import { describe, expect, it } from "vitest";
import { HOOK_TEXT_LIMIT, redactAndTruncate, redactSecrets } from "./redact";

describe("redactSecrets", () => {
  const cases: [string, string, string][] = [
    ["an env assignment naming a key", "OPENAI_API_KEY=abc123def456 node run.js", "OPENAI_API_KEY=[REDACTED] node run.js"],
    ["an exported password", "export DB_PASSWORD='p@ss w0rd' && make", "export DB_PASSWORD=[REDACTED] && make"],
    ["password= in a query", "curl 'https://x.test/login?user=a&password=hunter22&next=/'", "curl 'https://x.test/login?user=a&password=[REDACTED]&next=/'"],
    ["a bearer header", 'curl -H "Authorization: Bearer abc.def.ghi" x', 'curl -H "Authorization: [REDACTED] [REDACTED]" x'],
    ["a bare bearer token", "Bearer 0123456789abcdef", "Bearer [REDACTED]"],
    ["credentials in a URL", "git clone https://deploy:s3cr3t@git.example.test/r.git", "git clone https://deploy:[REDACTED]@git.example.test/r.git"],
    ["curl -u", "curl -u admin:letmein https://x.test", "curl -u admin:[REDACTED] https://x.test"],
    ["a --password option", "mysql --password hunter22 db", "mysql --password [REDACTED] db"],
    ["a JSON secret", '{"client_secret": "abcd1234", "name": "x"}', '{"client_secret": [REDACTED], "name": "x"}'],
    ["an AWS access key id", "aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE", "aws configure set aws_access_key_id [REDACTED]"],
    ["a GitHub token", "gh auth login --with-token ghp_abcdefghijklmnopqrstuvwxyz0123456789", "gh auth login --with-token [REDACTED]"],
    ["an OpenAI-style key", "echo sk-proj-abcdefghijklmnop1234", "echo [REDACTED]"],
    ["a JWT", "curl -d eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U x", "curl -d [REDACTED] x"],
    ["a private key block", "echo '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----' > k", "echo '[REDACTED]' > k"],
  ];
  it.each(cases)("replaces %s", (_what, text, expected) => {
    expect(redactSecrets(text)).toBe(expected);
  });

  it("leaves text without secrets as it is", () => {
    for (const text of ["npm test -- --runInBand", "git commit -m 'fix the token refresh'", "rm -rf build && npm run build", "Refactor the password reset page"]) {
      expect(redactSecrets(text)).toBe(text);
    }
  });
});

describe("redactAndTruncate", () => {
  it("redacts before it shortens, so a secret past the cut is not half kept", () => {
    const text = `${"x ".repeat(95)}API_KEY=${"k".repeat(50)}`;
    const kept = redactAndTruncate(text);
    expect(kept.length).toBeLessThanOrEqual(HOOK_TEXT_LIMIT);
    expect(kept).not.toContain("kkkk");
    expect(kept.endsWith("…")).toBe(true);
  });
});
