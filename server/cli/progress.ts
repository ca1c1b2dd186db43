/** A progress bar on stderr when it is a TTY (and not --json); silent otherwise. */
import type { OutputMode } from "./io";
import { terminal } from "./terminal";

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

const SILENT: Progress = { update: () => undefined, stop: () => undefined };
/** Small operations finish before a bar would be readable. */
const MIN_TOTAL_FOR_BAR = 200;

export async function createProgress(mode: OutputMode, label: string): Promise<Progress> {
  // Only on this process's own terminal (a command run by a server has none to draw on).
  if (mode.json || !terminal().stderrIsTTY || terminal().hosted) return SILENT;
  const { SingleBar, Presets } = await import("cli-progress");
  const bar = new SingleBar({ format: `${label} [{bar}] {percentage}% {value}/{total}`, stream: process.stderr, hideCursor: true, clearOnComplete: true }, Presets.shades_classic);
  let started = false;
  let shownTotal = 0;
  return {
    update(done, total) {
      if (total < MIN_TOTAL_FOR_BAR) return;
      if (!started) {
        bar.start(total, 0);
        started = true;
      } else if (total !== shownTotal) {
        // A capture that reads as it walks learns the total as it goes.
        bar.setTotal(total);
      }
      shownTotal = total;
      bar.update(done);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
