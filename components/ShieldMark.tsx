import type { SVGProps } from "react";

const SHIELD = "M16 2.5 4.5 6.8v8.4c0 7 4.9 12.3 11.5 14.3 6.6-2 11.5-7.3 11.5-14.3V6.8Z";

/** The Safety Net mark: a shield with a net across it (same drawing as app/icon.svg). */
export function ShieldMark({ id = "shield-mark", ...props }: SVGProps<SVGSVGElement> & { id?: string }) {
  const clipId = `${id}-clip`;
  return (
    <svg viewBox="0 0 32 32" aria-hidden="true" focusable="false" {...props}>
      <defs>
        <clipPath id={clipId}>
          <path d={SHIELD} />
        </clipPath>
      </defs>
      <path d={SHIELD} fill="currentColor" />
      <g clipPath={`url(#${clipId})`} fill="none" stroke="#ffffff" strokeWidth={1.4} strokeOpacity={0.85}>
        <path d="M-4 8 20 32M2 2l28 28M10 2l20 20M18 2l12 12" />
        <path d="M36 8 12 32M30 2 2 30M22 2 2 22M14 2 2 14" />
      </g>
    </svg>
  );
}
