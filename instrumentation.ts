// Next.js calls register() once when the server starts, before it answers
// requests: Safety Net's start-up work (migrations, crash recovery, the first
// admin token, the metrics observer) lives in server/api/startup.ts.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  if (process.env.NEXT_PHASE === "phase-production-build") return;
  const { startServer } = await import("./server/api/startup");
  await startServer();
}
