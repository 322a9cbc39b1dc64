import { archive, checkIn, createdAt, defineEntity, p, timestamptz } from '@huddle/db';
import { type Participant, TRANSCRIPT_SOURCES, type TranscriptSource } from '../schemas.ts';
import { DecisionsProject } from './project.ts';

/** decisions.transcripts: a meeting's text, entered by hand, uploaded, or delivered by a webhook. */
const DecisionsTranscriptSchema = defineEntity({
  name: 'DecisionsTranscript',
  tableName: 'transcripts',
  properties: {
    id: p.integer().primary().autoincrement(),
    // Transcripts of an archived project stay readable (MikroORM would otherwise apply the project's
    // archive filter to every find of a transcript); membership decides who reads them.
    project: () =>
      p
        .manyToOne(DecisionsProject)
        .ref()
        .deleteRule('cascade')
        .filters({ [archive.filter]: false }),
    /** The webhook's delivery id; null when entered by hand. */
    webhookId: p.string().length(100).nullable().unique('transcripts_webhook_id_unique'),
    title: p.string().length(300),
    source: p.string().length(20).$type<TranscriptSource>().default('manual'),
    meetingAt: timestamptz(),
    participants: p.json<Participant[]>().columnType('jsonb').default([]),
    content: p.text(),
    createdAt: createdAt(),
  },
  indexes: [
    {
      // Leads with project_id, so it also covers the foreign key.
      name: 'idx_transcripts_project_meeting',
      properties: ['project', 'meetingAt'],
      columns: [{ name: 'project_id' }, { name: 'meeting_at', sort: 'desc' }],
    },
    { name: 'idx_transcripts_participants_gin', properties: ['participants'], type: 'gin' },
  ],
  checks: [
    checkIn('transcripts_source_check', 'source', TRANSCRIPT_SOURCES),
    { name: 'transcripts_participants_check', expression: "jsonb_typeof(participants) = 'array'" },
  ],
});
export class DecisionsTranscript extends DecisionsTranscriptSchema.class {}
DecisionsTranscriptSchema.setClass(DecisionsTranscript);
