// Where a process's live heap was allocated, from V8's sampling heap profiler (through the
// inspector, in the process itself): each allocation site's share of what is still alive at the
// moment of reading, by the innermost frame of the project's own code (so that a Map's growth is
// charged to the code that fills it, not to Map.set).
import { Session } from 'node:inspector/promises';

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

export interface HeapSite {
  readonly site: string;
  readonly mib: number;
  readonly share: number;
}

export class HeapSampling {
  readonly #session = new Session();
  readonly #allocated: boolean;

  /** `allocated`: count what was allocated, collected since or not (the churn); otherwise what is alive. */
  constructor(options: { allocated?: boolean } = {}) {
    this.#allocated = options.allocated === true;
  }

  async start(): Promise<void> {
    this.#session.connect();
    // One sample every 32 KiB allocated: exact enough for sites of a megabyte or more.
    await this.#session.post('HeapProfiler.startSampling', {
      samplingInterval: 32 * 1024,
      includeObjectsCollectedByMajorGC: this.#allocated,
      includeObjectsCollectedByMinorGC: this.#allocated,
    } as never);
  }

  /** The top sites of what is alive now, by the innermost frame of the project's own code. */
  async top(count: number): Promise<HeapSite[]> {
    const { profile } = (await this.#session.post('HeapProfiler.getSamplingProfile')) as unknown as {
      profile: { head: SamplingNode };
    };
    const bySite = new Map<string, number>();
    let total = 0;
    const walk = (node: SamplingNode, site: string) => {
      const url = node.callFrame.url;
      const own = /\/(src|bench)\//.test(url) && !url.includes('node_modules');
      const here = own
        ? `${node.callFrame.functionName || '(anonymous)'} ${url.replace(/^.*\/(src|bench)\//, '$1/')}:${node.callFrame.lineNumber + 1}`
        : site;
      if (node.selfSize > 0) {
        bySite.set(here, (bySite.get(here) ?? 0) + node.selfSize);
        total += node.selfSize;
      }
      for (const child of node.children) walk(child, here);
    };
    walk(profile.head, '(outside the project: module loading, libraries)');
    return [...bySite]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([site, bytes]) => ({
        site,
        mib: Math.round((bytes / 1024 / 1024) * 10) / 10,
        share: Math.round((bytes / total) * 1000) / 10,
      }));
  }

  async stop(): Promise<void> {
    await this.#session.post('HeapProfiler.stopSampling').catch(() => undefined);
    this.#session.disconnect();
  }
}
