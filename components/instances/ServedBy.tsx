"use client";

import { Pill } from "@/components/ui/Pill";
import { Time } from "@/components/ui/Time";
import type { ComponentListItem } from "@/lib/trpc/types";

type ServedByView = ComponentListItem["servedBy"];

function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 12)}…` : id;
}

/**
 * Which server instance reaches a component's files (and so runs its
 * checkpoints and rollbacks): the live one(s), or the one last seen when none is
 * live, or none. Rendered beside the root on the overview and the component page.
 */
export function ServedBy({ servedBy }: { servedBy: ServedByView }) {
  const first = servedBy.instances[0];
  if (!first) {
    return (
      <p className="text-xs text-muted" data-testid="served-by" data-state="none">
        <Pill tone="warn" title="No server instance has this root among its SAFETYNET_ALLOWED_ROOTS">
          no instance
        </Pill>
      </p>
    );
  }
  const live = servedBy.instances.filter((i) => i.state === "live");
  const shown = live.length > 0 ? live : [first];
  return (
    <p className="flex flex-wrap items-center gap-1.5 text-xs text-muted" data-testid="served-by" data-state={servedBy.state}>
      {live.length > 0 ? (
        <Pill tone="ok" title="A live instance can reach these files: checkpoints and rollbacks run there">
          served
        </Pill>
      ) : (
        <Pill tone="bad" title="No live instance can reach these files: checkpoints and rollbacks answer 503 until it is back">
          {servedBy.state === "stopped" ? "stopped" : "not live"}
        </Pill>
      )}
      {shown.map((instance) => (
        <span key={instance.id} title={instance.id} data-testid="served-by-instance">
          {live.length > 0 ? "by " : "last seen "}
          <span className="font-mono text-foreground">{instance.host}</span> ({shortId(instance.id)}
          {instance.self ? ", this instance" : ""})
          {live.length === 0 ? (
            <>
              {" "}
              <Time iso={instance.heartbeatAt} mode="relative" />
            </>
          ) : null}
        </span>
      ))}
    </p>
  );
}
