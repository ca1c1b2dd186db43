import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { NavLinks } from "@/components/NavLinks";
import { SessionBadge } from "@/components/SessionBadge";
import { ShieldMark } from "@/components/ShieldMark";
import { TRPCReactProvider } from "@/components/providers/TRPCProvider";
import { loadViewer } from "@/lib/trpc/server";
import "./globals.css";

export const metadata: Metadata = {
  title: "Safety Net",
  description: "Checkpoints and rollback for changes made by AI agents.",
};

export default async function RootLayout({ children }: Readonly<{ children: ReactNode }>) {
  const { data: viewer } = await loadViewer();
  return (
    <html lang="en">
      <body className="min-h-screen antialiased">
        <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-4 focus:top-3 focus:rounded-md focus:bg-surface focus:px-3 focus:py-2">
          Skip to content
        </a>
        <header className="border-b border-border bg-surface">
          <div className="mx-auto flex h-14 max-w-6xl items-center justify-between gap-4 px-4 sm:px-6">
            <div className="flex items-center gap-4 sm:gap-6">
              <Link href="/" aria-label="Safety Net" className="flex items-center gap-2 whitespace-nowrap font-semibold tracking-tight">
                <ShieldMark className="h-[22px] w-[22px] text-accent" />
                <span className="hidden sm:inline">Safety Net</span>
              </Link>
              <NavLinks />
            </div>
            <SessionBadge viewer={viewer} />
          </div>
        </header>
        <TRPCReactProvider>
          <main id="main" className="mx-auto max-w-6xl px-4 py-8 sm:px-6 sm:py-10">
            {children}
          </main>
        </TRPCReactProvider>
      </body>
    </html>
  );
}
