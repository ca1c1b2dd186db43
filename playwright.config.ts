import path from "node:path";
import { defineConfig } from "@playwright/test";

// Runs against the production build (`npm run build` first) on a private port and data dir.
const PORT = Number(process.env.E2E_PORT ?? 3917);
// .e2e-data/data is the server's data directory; .e2e-data/workspace the only allowed
// workspace root (a component root may not lie inside the data directory).
const e2eDir = path.resolve(".e2e-data");
const dataDir = path.join(e2eDir, "data");
const workspace = path.join(e2eDir, "workspace");

export default defineConfig({
  testDir: "e2e",
  timeout: 60_000,
  retries: 0,
  workers: 1,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    // The console shows times in the browser's zone: UTC unless a spec asks for another, whatever the machine's zone.
    timezoneId: "UTC",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    },
  },
  webServer: {
    command: `rm -rf ${e2eDir} && mkdir -p ${dataDir} ${workspace} && node scripts/start.mjs`,
    url: `http://127.0.0.1:${PORT}/api/health`,
    timeout: 180_000,
    reuseExistingServer: false,
    env: {
      PORT: String(PORT),
      HOST: "127.0.0.1",
      SAFETYNET_DATA_DIR: dataDir,
      SAFETYNET_ALLOWED_ROOTS: workspace,
      NEXT_TELEMETRY_DISABLED: "1",
    },
  },
});
