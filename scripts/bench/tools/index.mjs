// The tool columns, by the names --tools takes, in table order.
import { cliCold } from "./cli-cold.mjs";
import { cliWarm } from "./cli-warm.mjs";
import { cpA } from "./cp.mjs";
import { engineInProcess } from "./engine.mjs";
import { shadowGit } from "./git.mjs";
import { restic } from "./restic.mjs";

export const TOOL_FACTORIES = { cli: cliCold, warm: cliWarm, engine: engineInProcess, git: shadowGit, cp: cpA, restic };
export const TOOL_NAMES = Object.keys(TOOL_FACTORIES);
