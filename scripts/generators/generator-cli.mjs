// What both generators share: reading `DIR [--name N]...` from the command line, and
// a seeded random source (the same seed always gives the same tree and the same changes).

/** Parses `DIR [--name N]...`; exits 2 with `usage` when DIR is missing or a number is not one. */
export function parseGeneratorArgs(tool, usage) {
  const args = process.argv.slice(2);
  const dir = args.find((a, i) => !a.startsWith("--") && !(i > 0 && args[i - 1]?.startsWith("--")));
  if (!dir) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  const opt = (name, def) => {
    const i = args.indexOf(`--${name}`);
    if (i < 0) return def;
    const n = Number(args[i + 1]);
    if (!Number.isFinite(n) || n < 0) {
      console.error(`${tool}: --${name} expects a non-negative number, got ${args[i + 1]}`);
      process.exit(2);
    }
    return n;
  };
  return { dir, opt };
}

/**
 * xorshift32, fast and deterministic. The seed first goes through a bijective scramble
 * (murmur3's finaliser): xorshift32 started on a small number would begin with a run of
 * tiny outputs, the same for seeds 1, 2, 3...
 */
export function seededRandom(seedValue) {
  let seed = seedValue >>> 0;
  seed = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  seed = Math.imul(seed ^ (seed >>> 13), 0xc2b2ae35) >>> 0;
  seed = (seed ^ (seed >>> 16)) >>> 0 || 1;
  const next32 = () => {
    seed ^= seed << 13;
    seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    return seed;
  };
  const rand = () => next32() / 0x100000000;
  const int = (n) => Math.floor(rand() * n);
  return { next32, rand, int };
}
