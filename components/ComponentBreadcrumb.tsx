import Link from "next/link";
import type { ReactNode } from "react";

/** "Components / <component> / <rest>": where a page of one component sits, each step a link back. */
export function ComponentBreadcrumb({ component, children }: { component: string; children?: ReactNode }) {
  return (
    <p className="text-sm text-muted">
      <Link href="/" className="hover:text-foreground hover:underline">
        Components
      </Link>{" "}
      /{" "}
      <Link href={`/components/${encodeURIComponent(component)}`} className="hover:text-foreground hover:underline">
        {component}
      </Link>{" "}
      /{children ? <> {children}</> : null}
    </p>
  );
}
