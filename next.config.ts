import type { NextConfig } from "next";

// Telemetry is disabled through NEXT_TELEMETRY_DISABLED=1 in the package scripts
// (Next has no config key for it).
const nextConfig: NextConfig = {
  // Native and Node-only modules are loaded at run time, never bundled.
  serverExternalPackages: ["better-sqlite3", "@prisma/adapter-better-sqlite3", "pg", "pg-copy-streams", "@prisma/adapter-pg", "pino", "prom-client", "fs-ext", "graphile-worker"],
  typedRoutes: false,
  poweredByHeader: false,
  reactStrictMode: true,
};

export default nextConfig;
