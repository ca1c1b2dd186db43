/**
 * Failed authentication attempts are throttled per client address: after
 * AUTH_FAILURES_PER_MINUTE failures (unknown or revoked API tokens, bad login
 * links, wrong cron secrets) within a minute, the address is refused (429 with
 * Retry-After) until the minute is over, right tokens included, so that guessing
 * cannot go on at full speed. Secrets are 256-bit random, so this is about load
 * and log floods more than about guessing. Kept in memory (rate-limiter-flexible):
 * one server process, and a restart forgets.
 */
import { RateLimiterMemory } from "rate-limiter-flexible";

export const AUTH_FAILURES_PER_MINUTE = 20;

// One limiter per process, even when a bundler duplicates this module into several chunks.
const SLOT = Symbol.for("safetynet.authFailureLimiter");
function limiter(): RateLimiterMemory {
  const slot = globalThis as { [SLOT]?: RateLimiterMemory };
  return (slot[SLOT] ??= new RateLimiterMemory({ keyPrefix: "auth-failures", points: AUTH_FAILURES_PER_MINUTE, duration: 60 }));
}

/** Seconds before `address` may try again; null when it may try now. */
export async function authRetryAfterSeconds(address: string): Promise<number | null> {
  const state = await limiter().get(address);
  if (!state || state.consumedPoints < AUTH_FAILURES_PER_MINUTE) return null;
  return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
}

export async function recordAuthFailure(address: string): Promise<void> {
  // penalty() counts without rejecting; the next attempt's authRetryAfterSeconds() refuses.
  await limiter().penalty(address, 1);
}

export function throttledMessage(address: string, retryAfterSeconds: number): string {
  return `too many failed authentication attempts from ${address}: try again in ${retryAfterSeconds} s`;
}
