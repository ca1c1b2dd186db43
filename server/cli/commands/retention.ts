import type { Command } from "commander";
import { retentionGetInput, retentionPolicyInput, retentionRunInput } from "../../schemas";
import { contextFor } from "../context";
import { emit, parseInput, parseInteger, setExitCode } from "../io";
import { formatBytes, formatDuration, formatTable } from "../format";
import type { EffectivePolicy, StoredPolicy } from "../../retention/policy";
import type { PolicyForecast } from "../../retention/forecast";
import { keptInWords, removedInWords } from "../../retention/wording";

interface SetOptions {
  component?: string;
  safety?: boolean;
  keepDays?: string;
  keepLast?: string;
  keepDaily?: string;
  keepWeekly?: string;
  reset?: boolean;
  applyToExisting?: boolean;
  dryRun?: boolean;
}

function rules(policy: StoredPolicy | EffectivePolicy | null): string {
  if (!policy) return "-";
  const parts = (["keepDays", "keepLast", "keepDaily", "keepWeekly"] as const).filter((k) => policy[k] !== null).map((k) => `${k} ${policy[k]}`);
  return parts.length ? parts.join(", ") : "retentionUntil only";
}

/** What a policy would do, in words: what the next run removes and keeps, and when removals start. */
function forecastLines(forecast: PolicyForecast): string[] {
  const lines = [`${removedInWords(forecast.expired, true)}; ${keptInWords(forecast.kept)}`];
  if (forecast.applyToExisting) lines.push(`${forecast.redated} existing checkpoint(s) get an earlier retention date from this policy`);
  if (forecast.expireNow > 0) lines.push(`the next retention run would remove ${forecast.expireNow} checkpoint(s)`);
  else if (forecast.firstExpiry) lines.push(`the first checkpoint expires on ${forecast.firstExpiry.at} (${forecast.firstExpiry.checkpointId}, ${forecast.firstExpiry.component})`);
  else lines.push("no checkpoint would expire while no new one is taken");
  return lines;
}

function optionalInteger(value: string | undefined, option: string): number | undefined {
  return value === undefined ? undefined : parseInteger(value, option);
}

export function registerRetentionCommands(program: Command): void {
  const retention = program.command("retention").description("retention policies and cleanup of expired checkpoints");

  retention
    .command("run")
    .description("expire checkpoints past retention and delete the objects no live checkpoint references")
    .option("--dry-run", "show what would be expired, kept and freed; change nothing")
    .action(async (opts: { dryRun?: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const input = parseInput(retentionRunInput, { dryRun: opts.dryRun });
      const { runRetention } = await import("../../retention/run");
      const result = await runRetention(await ctx.core(), { dryRun: input.dryRun, actor: ctx.actor });
      emit(ctx.mode, result, () => {
        const would = result.dryRun ? "would " : "";
        const lines = [
          `${removedInWords(result.summary.expired, result.dryRun)}; ${keptInWords(result.summary.kept)}`,
          `${result.dryRun ? "dry run: " : ""}${result.expired.length} checkpoint(s) ${would}${result.dryRun ? "expire" : "expired"}, ${result.kept.length} kept; ${result.removed.length} removed from the store, ${result.objectsDeleted} object(s) ${would}${result.dryRun ? "be deleted" : "deleted"}, ${formatBytes(result.bytesFreed)} ${would}${result.dryRun ? "be freed" : "freed"} (took ${formatDuration(result.durationMs)})`,
        ];
        if (result.expired.length) {
          lines.push("", "EXPIRE", formatTable(["CHECKPOINT", "COMPONENT", "KIND", "CREATED", "RULE", "WHY"], result.expired.map((d) => [d.checkpointId, d.component, d.kind, d.createdAt, d.rule, d.reason])));
        }
        if (result.kept.length) {
          lines.push("", "KEEP", formatTable(["CHECKPOINT", "COMPONENT", "KIND", "CREATED", "RULES", "WHY"], result.kept.map((d) => [d.checkpointId, d.component, d.kind, d.createdAt, d.rules.join(","), d.reason])));
        }
        const earlier = result.removed.filter((r) => !result.expired.some((d) => d.checkpointId === r.checkpointId));
        if (earlier.length) lines.push("", `also ${would}remove ${earlier.length} checkpoint(s) expired or deleted earlier: ${earlier.map((r) => r.checkpointId).join(", ")}`);
        if (result.keptByGrace.objects) lines.push(`${result.keptByGrace.objects} unreferenced object(s) (${formatBytes(result.keptByGrace.bytes)}) younger than the grace window are left for a later run`);
        for (const warning of result.warnings) lines.push(`warning: ${warning}`);
        for (const u of result.unreadable) lines.push(`cannot read ${u.manifestSha256 ?? "snapshot record"} of ${u.checkpointId ?? "?"}: ${u.error}; objects were not collected`);
        lines.push(`store: ${result.storeBefore.objects} objects, ${formatBytes(result.storeBefore.bytes)} -> ${result.storeAfter.objects} objects, ${formatBytes(result.storeAfter.bytes)}`);
        return lines.join("\n");
      });
      if (result.outcome === "failed") setExitCode(1);
    });

  retention
    .command("get")
    .description("show the retention policies and what applies to each component")
    .option("--component <name>", "only this component")
    .action(async (opts: { component?: string }, command: Command) => {
      const ctx = contextFor(command);
      const input = parseInput(retentionGetInput, { component: opts.component });
      const { getRetentionPolicies } = await import("../../retention/policy");
      const view = await getRetentionPolicies(await ctx.core(), input);
      emit(ctx.mode, view, () =>
        [
          `default: keep each checkpoint until its retentionUntil (${view.defaultRetentionDays} days unless set at creation); pinned, newest and in-use checkpoints are always kept`,
          view.policies.length ? formatTable(["SCOPE", "RULES", "UPDATED"], view.policies.map((p) => [p.scope, rules(p), p.updatedAt])) : "no policy configured",
          ...(view.effective.length
            ? ["", formatTable(["COMPONENT", "MANUAL CHECKPOINTS", "SAFETY CHECKPOINTS"], view.effective.map((e) => [e.component, `${rules(e.manual)} (${e.manual.source})`, `${rules(e.safety)} (${e.safety.source})`]))]
            : []),
        ].join("\n"),
      );
    });

  retention
    .command("set")
    .description("set the global policy, a component's (--component) or the safety checkpoints' (--safety); the rules given replace the scope's policy")
    .option("--component <name>", "this component's own policy")
    .option("--safety", "the policy of automatic safety checkpoints")
    .option("--keep-days <n>", "keep checkpoints created within the last N days")
    .option("--keep-last <n>", "keep the N newest checkpoints")
    .option("--keep-daily <n>", "keep the newest checkpoint of each of the last N days that have checkpoints (UTC)")
    .option("--keep-weekly <n>", "keep the newest checkpoint of each of the last N ISO weeks that have checkpoints")
    .option("--reset", "remove the policy of this scope (fall back to global, or the default)")
    .option("--apply-to-existing", "also bring existing checkpoints' own retention dates forward to what this policy gives them (default: they keep the date they were taken with)")
    .option("--dry-run", "say what the policy would remove, keep, and when it starts removing; save nothing")
    .action(async (opts: SetOptions, command: Command) => {
      const ctx = contextFor(command);
      const input = parseInput(retentionPolicyInput, {
        component: opts.component,
        safety: opts.safety,
        keepDays: optionalInteger(opts.keepDays, "--keep-days"),
        keepLast: optionalInteger(opts.keepLast, "--keep-last"),
        keepDaily: optionalInteger(opts.keepDaily, "--keep-daily"),
        keepWeekly: optionalInteger(opts.keepWeekly, "--keep-weekly"),
        reset: opts.reset,
        applyToExisting: opts.applyToExisting,
        dryRun: opts.dryRun,
      });
      const { setRetentionPolicy } = await import("../../retention/policy");
      const result = await setRetentionPolicy(await ctx.core(), input, ctx.actor);
      emit(ctx.mode, result, () =>
        [
          `${result.dryRun ? "dry run, nothing saved: " : ""}${result.policy ? `${result.scope} policy: ${rules(result.policy)} (was ${rules(result.previous)})` : `${result.scope} policy removed (was ${rules(result.previous)})`}`,
          ...forecastLines(result.forecast),
        ].join("\n"),
      );
    });

  program
    .command("verify")
    .description("integrity sweep: re-hash every object referenced by an active checkpoint (exit 4 when anything is corrupt or missing)")
    .option("--all", "every active checkpoint (required; one checkpoint: `checkpoint verify <id>`)")
    .action(async (opts: { all?: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const { InvalidInputError, EXIT_CODES } = await import("../../errors");
      if (!opts.all) throw new InvalidInputError("verify needs --all (to verify one checkpoint: safetynet checkpoint verify <id>)", { field: "--all" });
      const { verifyAll } = await import("../../retention/integrity");
      const result = await verifyAll(await ctx.core(), ctx.actor);
      emit(ctx.mode, result, () =>
        [
          `${result.checkpoints} checkpoint(s): ${result.verified} verified, ${result.corrupt} corrupt, ${result.missing} missing (${result.objectsChecked} objects, ${formatBytes(result.bytesChecked)} re-hashed in ${formatDuration(result.durationMs)})`,
          ...result.failures.flatMap((f) => [`${f.checkpointId} (${f.component}): ${f.state}`, ...f.problems.map((p) => `  ${p.state}: ${p.path ?? "manifest"} ${p.sha256}`)]),
        ].join("\n"),
      );
      if (result.corrupt + result.missing > 0) setExitCode(EXIT_CODES.INTEGRITY);
    });
}
