// Column "engine in-process": the core driven by a long-lived process
// (scripts/bench-engine-driver.ts, bundled), timing the engine calls only.
import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { bundleForNode } from "../bundle.mjs";
import { DRIVER_BUNDLE, DRIVER_SOURCE, REPO_ROOT } from "../paths.mjs";

export function bundleDriver() {
  return bundleForNode(DRIVER_SOURCE, DRIVER_BUNDLE);
}

/** A long-lived engine process: one JSON request per line in, one answer per line out. */
export class EngineDriver {
  constructor(env) {
    this.child = spawn(process.execPath, [DRIVER_BUNDLE], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "inherit"] });
    this.waiting = [];
    createInterface({ input: this.child.stdout }).on("line", (line) => this.waiting.shift()?.resolve(JSON.parse(line)));
    this.child.on("exit", (code) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`engine driver exited with ${code}`));
    });
  }

  async request(message) {
    const answer = await new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin.write(JSON.stringify(message) + "\n");
    });
    if (!answer.ok) throw new Error(`engine ${message.op} failed: ${answer.error}`);
    return answer;
  }

  async close() {
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    await this.request({ op: "close" });
    this.child.stdin.end();
    await exited;
  }
}

export function engineInProcess(ctx) {
  let driver;
  return {
    name: "engine",
    label: "engine in-process",
    skipsIgnored: true,
    async setup({ tree, scratch }) {
      driver = new EngineDriver({ SAFETYNET_ALLOWED_ROOTS: ctx.work });
      await driver.request({ op: "open", dataDir: path.join(scratch, "data"), cwd: scratch });
      await driver.request({ op: "add", name: "bench", root: tree });
    },
    async checkpoint() {
      const answer = await driver.request({ op: "checkpoint", component: "bench" });
      return { sec: answer.ms / 1000, id: answer.id, filesRead: answer.filesRead };
    },
    async rollback(id) {
      return { sec: (await driver.request({ op: "rollback", id })).ms / 1000 };
    },
    async restore(id, target) {
      return { sec: (await driver.request({ op: "restore", id, to: target })).ms / 1000 };
    },
    async teardown() {
      await driver?.close();
      driver = null;
    },
  };
}
