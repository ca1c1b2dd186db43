import Link from "next/link";
import { fileHistoryHref } from "@/lib/file-history-href";
import { displayPath } from "@/server/byte-paths";

/** "History": the page listing every checkpoint that changed this path, with its versions and Restore this version. */
export function FileHistoryLink({ component, path, className = "" }: { component: string; path: string; className?: string }) {
  return (
    <Link
      href={fileHistoryHref(component, path)}
      className={`shrink-0 font-sans text-xs text-accent hover:underline ${className}`}
      aria-label={`History of ${displayPath(path)}`}
      title={`Every checkpoint that changed ${displayPath(path)}, its versions, and restore one`}
      data-testid="file-history-link"
    >
      History
    </Link>
  );
}
