// Progress of a long loop (thousands of checkpoints): ten lines, each with an estimate of what is left.

/** Returns `tick(i)`, to call after item i (0-based) of `total` is done. */
export function progressLine(total, what, log) {
  const started = Date.now();
  const every = Math.max(1, Math.round(total / 10));
  return (i) => {
    if ((i + 1) % every !== 0 && i + 1 !== total) return;
    const sec = (Date.now() - started) / 1000;
    log(`${what}: ${i + 1}/${total} (${sec.toFixed(0)} s; about ${(((total - i - 1) * sec) / (i + 1)).toFixed(0)} s to go)`);
  };
}
