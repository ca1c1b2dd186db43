/**
 * y/N confirmation for destructive commands: asked on a TTY; without one the
 * command refuses unless --yes was given (nothing destructive runs unattended by accident).
 */
import { createInterface } from "node:readline/promises";
import { InvalidInputError, SafetyNetError } from "../errors";
import { terminal } from "./terminal";

export class DeclinedError extends SafetyNetError {}

export async function confirmOrRefuse(question: string, yes: boolean): Promise<void> {
  if (yes) return;
  if (!terminal().stdinIsTTY) throw new InvalidInputError("refusing to proceed without confirmation: no terminal to ask on; pass --yes", { field: "--yes" });
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${question} [y/N] `)).trim().toLowerCase();
    if (answer !== "y" && answer !== "yes") throw new DeclinedError("cancelled: nothing was changed");
  } finally {
    rl.close();
  }
}
