import { Pill } from "@/components/ui/Pill";

/**
 * The live workspace equals this checkpoint. For a checkpoint of some paths only in
 * its scope: files outside it were not compared and may differ, so never "exactly".
 */
export function MatchesLivePill({ partial }: { partial: boolean }) {
  return partial ? (
    <Pill tone="accent" title="The live workspace matches this checkpoint's paths (every byte, mode and mtime); files outside its scope were not compared and may differ">
      <span data-testid="matches-live">matches live in its scope</span>
    </Pill>
  ) : (
    <Pill tone="accent" title="The live workspace is exactly this checkpoint: every byte, mode and mtime">
      <span data-testid="matches-live">matches live</span>
    </Pill>
  );
}
