import type { SingleBar } from 'cli-progress';
import type { CliIo } from './context.ts';

/** Per-label progress: one bar per table (or phase), on stderr so stdout stays the command's result. */
export interface Progress {
  update(label: string, done: number, total: number): void;
  stop(): void;
}

/**
 * Progress bars for a person watching: only when stderr is a terminal and the output is not --json (a
 * script reading JSON, or a log file, gets no bar at all rather than a stream of redraws).
 */
async function progressBars(io: CliIo, json: boolean | undefined): Promise<Progress> {
  if (json || !io.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const { MultiBar, Presets } = await import('cli-progress');
  const multibar = new MultiBar(
    {
      stream: io.stderr,
      format: ' {bar} {percentage}% | {value}/{total} | {label}',
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    Presets.shades_classic,
  );
  const bars = new Map<string, SingleBar>();
  return {
    update(label, done, total) {
      const bar = bars.get(label);
      if (bar) {
        bar.setTotal(total);
        bar.update(done);
      } else {
        bars.set(label, multibar.create(total, done, { label }));
      }
    },
    stop: () => multibar.stop(),
  };
}

/** Runs `work` with progress bars that are always stopped, so an error line never lands mid-bar. */
export async function withProgress<T>(
  io: CliIo,
  json: boolean | undefined,
  work: (progress: Progress) => Promise<T>,
): Promise<T> {
  const progress = await progressBars(io, json);
  try {
    return await work(progress);
  } finally {
    progress.stop();
  }
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** `12,345` */
export function formatCount(value: number): string {
  return integer.format(value);
}

/** `1.23 s` or `45 ms` */
export function formatDuration(milliseconds: number): string {
  return milliseconds >= 1000 ? `${(milliseconds / 1000).toFixed(2)} s` : `${Math.round(milliseconds)} ms`;
}
