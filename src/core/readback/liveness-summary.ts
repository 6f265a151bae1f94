import type { Judgement } from './traefik-view.ts';

/** What one Traefik showed of a resource when explain read it, or why it could not tell. */
export interface InstanceReading {
  readonly traefik: string;
  readonly judgement: Judgement | { readonly state: 'unknown'; readonly why: string };
  /** When the change it lacks was committed, if the read-back awaits it there. */
  readonly awaitedSince?: number | undefined;
}

/** One resource of a workload across the Traefiks: "live in 2 of 3", and what the others lack. */
export interface ResourceLiveness {
  readonly resource: string;
  readonly live: number;
  readonly of: number;
  readonly lacking: readonly {
    readonly traefik: string;
    readonly state: 'pending' | 'refused' | 'unknown';
    /** Traefik's own error (refused), what it shows instead (pending), or why it could not be read. */
    readonly detail: string;
    /** Seconds the change has been missing there, when known. */
    readonly forSeconds?: number;
  }[];
}

export function summarizeLiveness(
  resource: string,
  readings: readonly InstanceReading[],
  now: number,
): ResourceLiveness {
  const lacking: ResourceLiveness['lacking'][number][] = [];
  let live = 0;
  for (const reading of readings) {
    const { judgement } = reading;
    if (judgement.state === 'live') {
      live += 1;
      continue;
    }
    const detail = judgement.state === 'refused' ? judgement.error : judgement.why;
    lacking.push({
      traefik: reading.traefik,
      state: judgement.state,
      detail,
      ...(reading.awaitedSince === undefined
        ? {}
        : { forSeconds: Math.max(0, Math.round((now - reading.awaitedSince) / 1000)) }),
    });
  }
  return { resource, live, of: readings.length, lacking };
}

/** The lines explain prints for it. */
export function livenessLines(liveness: ResourceLiveness): string[] {
  const head = `  ${liveness.resource}: live in ${liveness.live} of ${liveness.of} Traefik${liveness.of === 1 ? '' : 's'}`;
  return [
    head,
    ...liveness.lacking.map((entry) => {
      const since = entry.forSeconds === undefined ? '' : ` for ${entry.forSeconds} s`;
      if (entry.state === 'refused') return `    ${entry.traefik} refused it: ${entry.detail}`;
      if (entry.state === 'unknown') return `    ${entry.traefik} could not be read: ${entry.detail}`;
      return `    ${entry.traefik} lacks it${since} (${entry.detail})`;
    }),
  ];
}
