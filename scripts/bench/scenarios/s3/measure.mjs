// One measured API operation of a side: its wall time (the request, as the agent waits for it),
// the server's peak RSS during it, and the CPU the server and s3rver each spent on it: both
// run on this machine, so the CPU split says whether a slow bucket row is our work or the
// emulator's.
import { processCpuSeconds, resetPeakMemory } from "../../processes.mjs";
import { flushDirtyPages } from "../../tree.mjs";

/** `operation()` resolves to {ms, ...}; returns that with {serverPeakMb, serverRssMb, serverCpuSec, s3rverCpuSec}. */
export async function measureOn(side, s3, operation) {
  // Untimed: write-back of the previous step's files would land in this operation's fsyncs.
  flushDirtyPages();
  const pid = side.session.server.pid;
  const peakReset = resetPeakMemory(pid);
  const serverCpu = processCpuSeconds(pid);
  const s3rverCpu = side.name === "bucket" ? processCpuSeconds(s3.pid) : null;
  const result = await operation();
  const memory = side.memory();
  return {
    ...result,
    serverRssMb: memory?.rssMb ?? null,
    // Without a reset the peak is since the server started: still an upper bound.
    serverPeakMb: memory?.peakMb ?? null,
    peakSinceStart: !peakReset,
    serverCpuSec: processCpuSeconds(pid) - serverCpu,
    s3rverCpuSec: s3rverCpu === null ? null : processCpuSeconds(s3.pid) - s3rverCpu,
  };
}
