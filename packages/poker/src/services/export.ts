import {
  type EntityManager,
  executePrepared,
  ForbiddenError,
  notFound,
  outputObjectSql,
  preparedStatement,
} from '@huddle/db';
import { encodeCursor } from '@huddle/db/zod';
import { stringify } from 'csv-stringify/sync';
import type { PokerActor } from '../actor.ts';
import type { ExportSessionInput, SessionCsvExport, SessionExport } from '../schemas.ts';
import { sessionDeckSql } from './outputs.ts';

type ExportedStory = SessionExport['stories'][number];
type ExportedRound = ExportedStory['rounds'][number];

/** A vote as an export shows it: the current round's values only once revealed. */
const voteObject = (vote: string, points: string) =>
  outputObjectSql<ExportedRound['votes'][number]>({ userId: `${vote}.user_id`, name: 'u.name', points });

/** The rounds of story `st`: past rounds from past_votes, then the current one (none while it is pending). */
const roundsSql = `coalesce((select json_agg(${outputObjectSql<ExportedRound>({ round: 'r.round', votes: 'r.votes' })} order by r.round) from (
    select pv.round, json_agg(${voteObject('pv', 'pv.points')} order by pv.cast_at, pv.id) as votes
    from poker.past_votes pv join poker.users u on u.id = pv.user_id
    where pv.story_id = st.id group by pv.round
    union all
    select st.round, coalesce((select json_agg(
        ${voteObject('v', 'case when st.revealed_at is not null then v.points end')} order by v.created_at, v.id)
      from poker.votes v join poker.users u on u.id = v.user_id where v.story_id = st.id), '[]')
    where st.status <> 'pending') r), '[]')`;

/**
 * One page of a session's results for `$1` (the actor) and session `$2`: stories after the key (`$3`
 * story_order, `$4` id; null from the first), `$5` of them at most, each with its rounds (`roundsSql`).
 */
const sessionExportStatement = preparedStatement<{
  session: SessionExport['session'];
  deck: SessionExport['deck'];
  stories: ExportedStory[];
  allowed: boolean;
}>(
  'poker.session_export',
  `select ${outputObjectSql<SessionExport['session']>({ id: 's.id', name: 's.name', status: 's.status' })} as session,
          ${sessionDeckSql('s')} as deck,
          coalesce((select json_agg(page.story order by page.story_order, page.id) from (
            select st.story_order, st.id, ${outputObjectSql<ExportedStory>({
              id: 'st.id',
              storyOrder: 'st.story_order',
              title: 'st.title',
              description: 'st.description',
              status: 'st.status',
              finalPoints: 'st.final_points',
              rounds: roundsSql,
            })} as story
            from poker.stories st
            where st.session_id = s.id and ($3::int is null or (st.story_order, st.id) > ($3, $4::int))
            order by st.story_order, st.id limit $5) page), '[]') as stories,
          s.facilitator_id = $1 or exists (
            select 1 from poker.session_participants p where p.session_id = s.id and p.user_id = $1) as allowed
   from poker.sessions s where s.id = $2`,
);

/**
 * A page of a session's results, for its participants: the session, its deck, and its stories in story
 * order, each with its final estimate and the votes of every round (the current round's values only once
 * revealed). Bounded: at most `limit` stories (MAX_EXPORT_STORIES) a page; `nextCursor` asks for the next.
 */
export async function exportSession(
  em: EntityManager,
  actor: PokerActor,
  input: ExportSessionInput,
): Promise<SessionExport> {
  const { sessionId, limit, cursor } = input;
  const [row] = await executePrepared(em, sessionExportStatement, [
    actor.userId,
    sessionId,
    cursor?.[0] ?? null,
    cursor?.[1] ?? null,
    limit + 1,
  ]);
  if (!row) throw notFound('sessionId', 'session', sessionId);
  if (!row.allowed) {
    throw new ForbiddenError(`sessionId: join session ${sessionId} to export it`, { field: 'sessionId' });
  }
  const stories = row.stories.slice(0, limit);
  const last = stories.at(-1);
  return {
    session: row.session,
    deck: row.deck,
    stories,
    nextCursor: row.stories.length > limit && last ? encodeCursor([last.storyOrder, last.id]) : null,
  };
}

/** The columns of the CSV export, one line per vote. */
const CSV_COLUMNS = [
  'story_id',
  'story_order',
  'title',
  'description',
  'status',
  'final_points',
  'round',
  'user_id',
  'user_name',
  'points',
] as const;

/**
 * The same page as `exportSession`, as CSV (csv-stringify): a header, then one line per vote, and one line
 * with empty vote columns for a story without votes. Cells that a spreadsheet would run as a formula
 * (starting with =, +, -, @) are escaped.
 */
export async function exportSessionCsv(
  em: EntityManager,
  actor: PokerActor,
  input: ExportSessionInput,
): Promise<SessionCsvExport> {
  const { stories, nextCursor } = await exportSession(em, actor, input);
  const lines = stories.flatMap((story) => {
    const storyColumns = [
      story.id,
      story.storyOrder,
      story.title,
      story.description ?? '',
      story.status,
      story.finalPoints ?? '',
    ];
    const votes = story.rounds.flatMap((round) =>
      round.votes.map((vote) => [...storyColumns, round.round, vote.userId, vote.name, vote.points ?? '']),
    );
    return votes.length > 0 ? votes : [[...storyColumns, '', '', '', '']];
  });
  const csv = stringify(lines, { header: true, columns: [...CSV_COLUMNS], escape_formulas: true });
  return { csv, nextCursor };
}
