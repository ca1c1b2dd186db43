import type { Metadata, Viewport } from "next";
import Link from "next/link";
import { Suspense, type ReactNode } from "react";
import { ConnectionBanner } from "@/components/ConnectionBanner";
import { NavLinks } from "@/components/NavLinks";
import { SessionBadge } from "@/components/SessionBadge";
import { ShieldMark } from "@/components/ShieldMark";
import { TRPCReactProvider } from "@/components/providers/TRPCProvider";
import { ConsolePreferencesProvider } from "@/components/providers/ConsolePreferencesProvider";
import { TimeModeToggle } from "@/components/TimeModeToggle";
import { requestPreferences } from "@/lib/console-preferences-server";
import { loadViewer, redirectSignedOutVisitor } from "@/lib/trpc/server";
import "./globals.css";

export const metadata: Metadata = {
  title: "Safety Net",
  description: "Checkpoints and rollback for changes made by AI agents.",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1, colorScheme: "light dark" };

export default async function RootLayout({ children }: Readonly<{ children: ReactNode }>) {
  await redirectSignedOutVisitor();
  const [{ data: viewer }, preferences] = await Promise.all([loadViewer(), requestPreferences()]);
  return (
    <html lang="en">
      <body className="min-h-screen antialiased">
        <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-4 focus:top-3 focus:rounded-md focus:bg-surface focus:px-3 focus:py-2">
          Skip to content
        </a>
        <TRPCReactProvider>
          <ConsolePreferencesProvider initial={preferences}>
            <header className="border-b border-border bg-surface">
              <div className="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-x-4 gap-y-1 px-4 py-2 sm:h-14 sm:flex-nowrap sm:py-0 sm:px-6">
                <Link href="/" aria-label="Safety Net" className="order-1 flex items-center gap-2 whitespace-nowrap font-semibold tracking-tight">
                  <ShieldMark className="h-[22px] w-[22px] text-accent" />
                  <span className="hidden md:inline">Safety Net</span>
                </Link>
                <div className="order-3 -mx-2 w-full sm:order-2 sm:mx-0 sm:w-auto sm:flex-1">
                  <NavLinks role={viewer?.role ?? null} />
                </div>
                <div className="order-2 flex min-w-0 items-center gap-3 sm:order-3">
                  <TimeModeToggle />
                  <Suspense fallback={null}>
                    <SessionBadge viewer={viewer} />
                  </Suspense>
                </div>
              </div>
            </header>
            <Suspense fallback={null}>
              <ConnectionBanner />
            </Suspense>
            <main id="main" className="mx-auto max-w-6xl px-4 py-6 sm:px-6 sm:py-10">
              {children}
            </main>
          </ConsolePreferencesProvider>
        </TRPCReactProvider>
      </body>
    </html>
  );
}
