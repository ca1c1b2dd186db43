/**
 * Roles are ordered: each one may do everything the ones below it may.
 * viewer: read; agent: checkpoint, verify, plan and execute rollbacks;
 * operator: components, pins, deletes, retention; admin: tokens.
 */
import type { TokenRole } from "../schemas";

export type { TokenRole } from "../schemas";
export { tokenRoles } from "../schemas";

const RANK: Record<TokenRole, number> = { viewer: 0, agent: 1, operator: 2, admin: 3 };

export function isTokenRole(value: string): value is TokenRole {
  return value in RANK;
}

export function roleAtLeast(role: TokenRole, required: TokenRole): boolean {
  return RANK[role] >= RANK[required];
}

/** Who is calling: the token (directly, or through a session made from it). */
export interface Principal {
  tokenId: string;
  name: string;
  role: TokenRole;
  /** Component names in scope; empty = every component. */
  components: string[];
  via: "token" | "session";
}

/** The history actor for everything this principal changes. */
export function actorOf(principal: Pick<Principal, "name">): string {
  return `token:${principal.name}`;
}

export function componentInScope(principal: Pick<Principal, "components">, component: string): boolean {
  return principal.components.length === 0 || principal.components.includes(component);
}

/** The components a principal's summaries and metrics cover: all (null) unless its token is scoped. */
export function statsScopeOf(principal: Pick<Principal, "components">): string[] | null {
  return principal.components.length === 0 ? null : principal.components;
}
