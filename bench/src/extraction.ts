import { readFile } from 'node:fs/promises';
import { createHuddleClient } from '@huddle/api';
import { startApiServer } from '@huddle/api/server';
import { domainModules } from '@huddle/composition';
import { ModuleResources, seed } from '@huddle/db';
import {
  type Extractor,
  labelledMeetingSetSchema,
  ruleBasedExtractor,
  scoreExtractor,
} from '@huddle/decisions';
import { pino } from 'pino';
import { migratedDatabase } from './server.ts';

/** The labelled meetings the extractor is measured on (kept with the decisions package's tests). */
const LABELLED_SETS = ['extraction-set.json', 'extraction-held-out.json'].map(
  (file) => new URL(`../../packages/decisions/test/fixtures/${file}`, import.meta.url),
);

/**
 * How well `extractor` finds decisions: precision and recall on each labelled set (the tuning set, written
 * before the extractor was tuned, and the held-out set), with what it missed and what it proposed wrongly.
 */
export async function benchExtractionQuality(extractor: Extractor = ruleBasedExtractor): Promise<string[]> {
  const lines = [
    `extractor ${extractor.name}`,
    'set                        meetings  decisions  proposed  matched  precision  recall',
    '-------------------------  --------  ---------  --------  -------  ---------  ------',
  ];
  const notes: string[] = [];
  for (const url of LABELLED_SETS) {
    const set = labelledMeetingSetSchema.parse(JSON.parse(await readFile(url, 'utf8')));
    const score = await scoreExtractor(extractor, set);
    const name = url.pathname.split('/').at(-1)!;
    lines.push(
      [
        name.padEnd(25),
        String(score.meetings).padStart(8),
        String(score.expected).padStart(9),
        String(score.proposed).padStart(8),
        String(score.matched).padStart(7),
        score.precision.toFixed(3).padStart(9),
        score.recall.toFixed(3).padStart(6),
      ].join('  '),
    );
    for (const { meeting, title } of score.missed) notes.push(`  missed (${name}, ${meeting}): ${title}`);
    for (const { meeting, title } of score.wrong) notes.push(`  wrong  (${name}, ${meeting}): ${title}`);
  }
  return [...lines, ...notes];
}

/**
 * `pnpm bench extraction`: `decisions.transcripts.extract` over HTTP on transcripts of 100, 200, 400 and
 * 800 KiB, adversarial (the inputs that made the old regular expressions backtrack quadratically) and
 * ordinary, while a second client asks `/health` one request after another. Prints the rule-based
 * extractor's own time in this process (the median of three; its time per KiB is flat when growth is
 * linear), the whole request's time (two short transactions, the extractor, the proposals' inserts), and
 * how many `/health` answers came back during the request, with the slowest.
 */

const SIZES_KIB = [100, 200, 400, 800];
const SECRET = new TextEncoder().encode('bench-extraction-secret-of-32-bytes!');

const MEETING_LINES = [
  'Ann: Thanks for joining, let us go through the open points one by one.',
  'Bob: The release train looks fine; QA signed off on the last build yesterday.',
  'Cem: I still see flaky tests in the payments suite, mostly timeouts.',
  'Ann: Sounds good to me.',
];

/** A transcript of about `bytes` characters of the given kind. */
function transcriptOf(kind: string, bytes: number): string {
  switch (kind) {
    case 'trailing dots':
      return `We decided to ship it${'.'.repeat(bytes)}x`;
    case 'conditions':
      return `Dan: If ${'if '.repeat(Math.floor(bytes / 3))}we agreed to x`;
    case 'rationale':
      return `We decided to move it ${'as '.repeat(Math.floor(bytes / 3))}\u2028x`;
    default: {
      const lines: string[] = [];
      let size = 0;
      for (let line = 0; size < bytes; line++) {
        const text =
          line % 20 === 0
            ? `Ann: We decided to ship feature ${line} next week because customers asked for it.`
            : MEETING_LINES[line % MEETING_LINES.length]!;
        lines.push(text);
        size += text.length + 1;
      }
      return lines.join('\n');
    }
  }
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

export async function benchExtraction(serverUrl: string): Promise<string[]> {
  const target = await migratedDatabase(serverUrl, 'bench_extraction', domainModules, 10);
  const server = await startApiServer({
    db: target.db,
    secret: SECRET,
    moduleResources: await ModuleResources.fromEnv(target.db.modules, { HUDDLE_PLANNER_ROOTS: '' }),
    port: 0,
    host: '127.0.0.1',
    logger: pino({ level: 'silent' }),
  });
  const lines: string[] = [];
  try {
    await seed(target.db, 'minimal', { module: 'decisions' });
    const { token } = await createHuddleClient(server.url).decisions.auth.signIn.mutate({
      email: 'test@example.com',
      password: 'password',
    });
    const client = createHuddleClient(server.url, { decisions: token });
    const project = await client.decisions.projects.create.mutate({ name: 'Extraction bench' });
    lines.push(
      'kind            size     extractor   per KiB    request   /health answers during it (slowest)',
      '--------------  -------  ---------  --------  ---------  -----------------------------------',
    );
    for (const kind of ['trailing dots', 'conditions', 'rationale', 'ordinary']) {
      for (const kib of SIZES_KIB) {
        const content = transcriptOf(kind, kib * 1024);
        const runs: number[] = [];
        for (let run = 0; run < 3; run++) {
          const started = performance.now();
          await ruleBasedExtractor.extract({ title: kind, content, participants: [] });
          runs.push(performance.now() - started);
        }
        const alone = median(runs);
        const transcript = await client.decisions.transcripts.create.mutate({
          projectId: project.id,
          title: `${kind} ${kib} KiB`,
          meetingAt: '2026-12-06T09:00:00Z',
          content,
        });
        let extracting = true;
        const health: number[] = [];
        const poll = (async () => {
          while (extracting) {
            const started = performance.now();
            await fetch(`${server.url}/health`).then((response) => response.arrayBuffer());
            health.push(performance.now() - started);
          }
        })();
        const started = performance.now();
        await client.decisions.transcripts.extract.mutate({ transcriptId: transcript.id });
        const milliseconds = performance.now() - started;
        extracting = false;
        await poll;
        lines.push(
          [
            kind.padEnd(14),
            `${kib} KiB`.padStart(7),
            `${alone.toFixed(1)} ms`.padStart(9),
            `${((alone * 1000) / kib).toFixed(1)} µs`.padStart(8),
            `${milliseconds.toFixed(0)} ms`.padStart(9),
            `${health.length} (${Math.max(...health).toFixed(1)} ms)`,
          ].join('  '),
        );
      }
    }
  } finally {
    await server.close();
    await target.db.close();
  }
  return lines;
}
