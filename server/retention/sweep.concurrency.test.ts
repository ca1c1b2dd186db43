/**
 * Concurrent checkpoint create + retention sweep, repeated: the sweep wants to
 * delete the objects of an expired checkpoint while a create is storing the very
 * same content (dedup: the create finds the objects present and does not write
 * them). Nothing may be lost: every checkpoint verifies and restores byte for byte.
 */
import { afterEach, beforeEach, expect, it } from "vitest";
import { verifyCheckpoint } from "../checkpoints/verify";
import { ACTOR, openFixture, type Fixture } from "./test-fixture";
import { runRetention } from "./run";

const ITERATIONS = 30;
const FILES = 40;

let f: Fixture;
beforeEach(async () => {
  f = await openFixture();
  await f.component("app");
});
afterEach(async () => {
  await f.close();
});

function contentOf(iteration: number, variant: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < FILES; i++) files[`src/file-${i}.txt`] = `${variant} iteration ${iteration} file ${i}\n`.repeat(50 + i);
  return files;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it(`loses nothing when checkpoint create and the sweep run concurrently (${ITERATIONS} times)`, async () => {
  const survivors: { id: string; files: Record<string, string> }[] = [];
  let collected = 0;
  for (let iteration = 0; iteration < ITERATIONS; iteration++) {
    const reused = contentOf(iteration, "A");
    f.write("app", reused);
    await f.checkpoint("app", { reason: `to be expired ${iteration}` });
    f.clock.advance(1000);
    f.write("app", contentOf(iteration, "B"));
    await f.checkpoint("app", { reason: `newest ${iteration}` });
    f.clock.advanceDays(8); // both past retentionUntil: the first expires, the second is kept as the newest (until the next one)

    // The workspace goes back to content A: the create reuses the objects the sweep is about to collect.
    f.write("app", reused);
    const delay = iteration % 5;
    const create = (async () => {
      if (iteration % 2 === 0) await sleep(delay);
      return f.checkpoint("app", { reason: `concurrent ${iteration}`, retentionDays: 3650 });
    })();
    const run = (async () => {
      if (iteration % 2 === 1) await sleep(delay);
      return runRetention(f.core, { actor: ACTOR, graceMs: 0 });
    })();
    const [created, result] = await Promise.all([create, run]);
    collected += result.objectsDeleted;
    expect((await verifyCheckpoint(f.core, created.id, ACTOR)).state).toBe("verified");
    survivors.push({ id: created.id, files: reused });
  }
  expect(collected).toBeGreaterThan(0); // the sweeps did collect (the B contents and manifests)

  for (const survivor of survivors) {
    await f.rollback(survivor.id);
    for (const [rel, content] of Object.entries(survivor.files)) expect(f.read("app", rel).toString()).toBe(content);
  }
});
