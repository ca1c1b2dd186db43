import path from "node:path";
import { defineConfig } from "@playwright/test";

// Runs against the production build (`npm run build` first) on a private port and data dir.
const PORT = Number(process.env.E2E_PORT ?? 3917);
const dataDir = path.resolve(".e2e-data");

export default defineConfig({
  testDir: "e2e",
  timeout: 60_000,
  retries: 0,
  workers: 1,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    },
  },
  webServer: {
    command: `rm -rf ${dataDir} && mkdir -p ${dataDir}/workspace && node scripts/start.mjs`,
    url: `http://127.0.0.1:${PORT}/api/health`,
    timeout: 180_000,
    reuseExistingServer: false,
    env: {
      PORT: String(PORT),
      HOST: "127.0.0.1",
      SAFETYNET_DATA_DIR: dataDir,
      SAFETYNET_ALLOWED_ROOTS: path.join(dataDir, "workspace"),
      NEXT_TELEMETRY_DISABLED: "1",
    },
  },
});
