import { domainModules } from '@huddle/composition';
import { listJobs } from '@huddle/db';
import { Cron } from 'croner';
import { describe, expect, it } from 'vitest';
import { dueSlot, JOB_SCHEDULES_VARIABLE, jobSchedulesFromEnv } from '../src/scheduler.ts';

const schedulesFrom = (value: string) =>
  jobSchedulesFromEnv(domainModules, { [JOB_SCHEDULES_VARIABLE]: value });

describe('job schedules from HUDDLE_JOB_SCHEDULES', () => {
  it('replaces the named jobs’ schedules, five fields or six with seconds; unset or empty keeps every default', () => {
    expect(jobSchedulesFromEnv(domainModules, {})).toEqual(new Map());
    expect(schedulesFrom(' ; ')).toEqual(new Map());
    expect(schedulesFrom(' scrum.detect-delays = */5 * * * * ;decisions.reembed=*/30 * * * * *;')).toEqual(
      new Map([
        ['scrum.detect-delays', '*/5 * * * *'],
        ['decisions.reembed', '*/30 * * * * *'],
      ]),
    );
  });

  it('refuses an entry without =, an unknown or repeated job and a bad pattern, each in one line naming the variable', () => {
    const known = listJobs({ modules: domainModules })
      .map((job) => job.id)
      .join(', ');
    expect(() => schedulesFrom('*/5 * * * *')).toThrow(
      'HUDDLE_JOB_SCHEDULES: "*/5 * * * *" is not <module>.<job>=<cron expression>',
    );
    expect(() => schedulesFrom('scrum.detect-delay=*/5 * * * *')).toThrow(
      `HUDDLE_JOB_SCHEDULES: unknown job "scrum.detect-delay" (known: ${known})`,
    );
    expect(() => schedulesFrom('decisions.reembed=0 * * * *;decisions.reembed=30 * * * *')).toThrow(
      'HUDDLE_JOB_SCHEDULES: decisions.reembed is given twice',
    );
    expect(() => schedulesFrom('decisions.reembed=61 * * * *')).toThrow(
      'HUDDLE_JOB_SCHEDULES: decisions.reembed: "61 * * * *" is not a cron expression (Invalid value for minute: 61)',
    );
    expect(() => schedulesFrom('decisions.reembed=hourly')).toThrow(
      /^HUDDLE_JOB_SCHEDULES: decisions\.reembed: "hourly" is not a cron expression \(.+\)$/,
    );
  });
});

describe('the schedule slot a firing claims', () => {
  it('is the time the pattern was due, however late the timer fires, to the second with a seconds field', () => {
    const quarterHourly = new Cron('*/15 * * * *', { timezone: 'UTC', paused: true });
    expect(dueSlot(quarterHourly, new Date('2026-11-22T10:15:00.000Z'))).toEqual(
      new Date('2026-11-22T10:15:00.000Z'),
    );
    // 90 s late: still the 10:15 slot, the one a process whose timer fired on time claimed.
    expect(dueSlot(quarterHourly, new Date('2026-11-22T10:16:30.000Z'))).toEqual(
      new Date('2026-11-22T10:15:00.000Z'),
    );
    const everyTwoSeconds = new Cron('*/2 * * * * *', { timezone: 'UTC', paused: true });
    expect(dueSlot(everyTwoSeconds, new Date('2026-11-22T10:00:04.000Z'))).toEqual(
      new Date('2026-11-22T10:00:04.000Z'),
    );
    expect(dueSlot(everyTwoSeconds, new Date('2026-11-22T10:00:05.999Z'))).toEqual(
      new Date('2026-11-22T10:00:04.000Z'),
    );
  });
});
