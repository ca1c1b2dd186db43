"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { roleAllows, type ViewerRole } from "@/lib/trpc/types";

const LINKS = [
  { href: "/", label: "Components", role: "viewer", matches: (p: string) => p === "/" || p.startsWith("/components") || p.startsWith("/checkpoints") },
  { href: "/history", label: "History", role: "viewer", matches: (p: string) => p.startsWith("/history") },
  { href: "/retention", label: "Retention", role: "viewer", matches: (p: string) => p.startsWith("/retention") },
  { href: "/instances", label: "Instances", role: "viewer", matches: (p: string) => p.startsWith("/instances") },
  { href: "/tokens", label: "Tokens", role: "admin", matches: (p: string) => p.startsWith("/tokens") },
] as const;

/** The main navigation (the sections the signed-in role may use); the current section is marked for sighted and screen-reader users alike. */
export function NavLinks({ role }: { role: ViewerRole | null }) {
  const pathname = usePathname() ?? "/";
  return (
    <nav aria-label="Main" className="flex flex-wrap items-center gap-1 text-sm">
      {LINKS.filter((link) => role !== null && roleAllows(role, link.role)).map((link) => {
        const current = link.matches(pathname);
        return (
          <Link
            key={link.href}
            href={link.href}
            aria-current={current ? "page" : undefined}
            className={`rounded-md px-2.5 py-1.5 sm:px-3 ${current ? "bg-background font-medium text-foreground" : "text-muted hover:text-foreground"}`}
          >
            {link.label}
          </Link>
        );
      })}
    </nav>
  );
}
