"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

const LINKS = [
  { href: "/", label: "Components", matches: (p: string) => p === "/" || p.startsWith("/components") || p.startsWith("/checkpoints") },
  { href: "/history", label: "History", matches: (p: string) => p.startsWith("/history") },
] as const;

/** The main navigation; the current section is marked for sighted and screen-reader users alike. */
export function NavLinks() {
  const pathname = usePathname() ?? "/";
  return (
    <nav aria-label="Main" className="flex items-center gap-1 text-sm">
      {LINKS.map((link) => {
        const current = link.matches(pathname);
        return (
          <Link
            key={link.href}
            href={link.href}
            aria-current={current ? "page" : undefined}
            className={`rounded-md px-3 py-1.5 ${current ? "bg-background font-medium text-foreground" : "text-muted hover:text-foreground"}`}
          >
            {link.label}
          </Link>
        );
      })}
    </nav>
  );
}
