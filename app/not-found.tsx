import Link from "next/link";
import { buttonClasses } from "@/components/ui/Button";

export default function NotFound() {
  return (
    <div className="mx-auto max-w-xl rounded-lg border border-border bg-surface p-5">
      <h1 className="text-base font-semibold">Page not found</h1>
      <p className="mt-2 text-sm text-muted">There is no page at this address.</p>
      <Link href="/" className={buttonClasses("secondary", "mt-4")}>
        Back to components
      </Link>
    </div>
  );
}
