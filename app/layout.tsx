import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { ShieldMark } from "@/components/ShieldMark";
import "./globals.css";

export const metadata: Metadata = {
  title: "Safety Net",
  description: "Checkpoints and rollback for changes made by AI agents.",
};

export default function RootLayout({ children }: Readonly<{ children: ReactNode }>) {
  return (
    <html lang="en">
      <body className="min-h-screen antialiased">
        <header className="border-b border-border bg-surface">
          <div className="mx-auto flex h-14 max-w-5xl items-center justify-between px-6">
            <Link href="/" className="flex items-center gap-2 font-semibold tracking-tight">
              <ShieldMark className="h-[22px] w-[22px] text-accent" />
              Safety Net
            </Link>
            <nav aria-label="Main" className="flex items-center gap-5 text-sm text-muted">
              <Link href="/" className="hover:text-foreground">
                Components
              </Link>
            </nav>
          </div>
        </header>
        <main className="mx-auto max-w-5xl px-6 py-10">{children}</main>
      </body>
    </html>
  );
}
