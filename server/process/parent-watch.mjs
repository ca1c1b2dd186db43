/**
 * Loaded first (node --import) by the Node children Safety Net starts
 * (child-lifetime.mjs): when the process that started this one is gone, this one
 * stops too, so a killed `safetynet serve` never leaves its web server behind.
 * It sends itself SIGTERM: the program's own handler shuts down as on Ctrl-C
 * (the web server closes within its deadline), or, without one, it ends at once.
 *
 * The parent's pid comes from the environment, not from process.ppid at start:
 * a parent that died before this line ran is noticed too. Polling is the one
 * way Node has to see it (no prctl); once a second costs nothing.
 */
const ENV = "SAFETYNET_PARENT_PID";
const POLL_MS = 1000;

const parent = Number(process.env[ENV]);
// Not inherited by this process's own children: they are watched against their own parent.
delete process.env[ENV];

if (Number.isInteger(parent) && parent > 0) {
  const orphaned = () => process.ppid !== parent;
  const stop = () => {
    clearInterval(timer);
    process.kill(process.pid, "SIGTERM");
  };
  const timer = setInterval(() => {
    if (orphaned()) stop();
  }, POLL_MS);
  // The watch never keeps a process alive that would otherwise have ended.
  timer.unref();
  if (orphaned()) stop();
}
