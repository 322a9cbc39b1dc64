import {
  callOperation,
  createServiceKey,
  type Database,
  inRequestScope,
  type ModuleFuzzFixtures,
  openSession,
} from '@huddle/db';
import type { DecisionsActor } from './actor.ts';
import { decisionsModule } from './module.ts';
import { decisionsOperations } from './operations.ts';
import { type DecisionsResources, defaultDecisionsResources } from './resources.ts';
import { MINIMAL_PASSWORD, MINIMAL_USERS } from './seeders/minimal.ts';

/**
 * The decision log's fixtures for the API's fuzz harness (`decisionsModule.fuzz`), in a database seeded with
 * the minimal sample data: the seeded director's sign-in and, every generation, a project owned by the
 * seed's director (decisions user 1, the harness's first token) — the fuzzer archives and deletes projects,
 * so each generation has its own — with two live decisions to relate, edit and move, a deleted one, a member
 * whose role can change or who can be removed and another whom only the example removes; and a deleted user:
 * the rows `decisions.relate`, `decisions.restore`, `projects.changeMemberRole`, `projects.removeMember` and
 * `users.restore` need.
 */
export async function decisionsFuzzFixtures(db: Database): Promise<ModuleFuzzFixtures<DecisionsResources>> {
  const resources = defaultDecisionsResources();
  const { decisions, projects, users } = decisionsOperations;
  return {
    values: {
      // The seeded director's sign-in: `decisions.auth.signIn` accepts it, and its token joins the pool.
      email: [MINIMAL_USERS[0].email],
      password: [MINIMAL_PASSWORD],
      // `users.changePassword` from the seeded password (every seeded user's) to itself: sign-ins keep working.
      currentPassword: [MINIMAL_PASSWORD],
      newPassword: [MINIMAL_PASSWORD],
    },
    sources: [
      { fields: ['projectId'], sql: 'select id from decisions.projects order by id' },
      { fields: ['transcriptId'], sql: 'select id from decisions.transcripts' },
      { fields: ['decisionId', 'fromDecisionId'], sql: 'select id from decisions.decisions order by id' },
      {
        // Reused fields take the same pick, so `toDecisionId` lists the live ones the other way round: a
        // relationship from a decision to another (never itself, never a deleted one).
        fields: ['toDecisionId'],
        sql: 'select id from decisions.decisions order by deleted_at is null, id desc',
      },
      { fields: ['userId'], sql: 'select id from decisions.users order by id' },
    ],
    async generation(generation) {
      // The fuzzer may have made another director and demoted or deleted the seed's: a director now live
      // acts, and the seed's director, if still live, owns the project too.
      const [live] = await inRequestScope(db.orm, (em) =>
        em.execute<{ director: number; seeded: boolean }[]>(
          `select min(id) filter (where role = 'director') as director, bool_or(id = 1) as seeded
             from decisions.users where deleted_at is null`,
        ),
      );
      const director = {
        module: 'decisions',
        userId: live!.director,
        role: 'director',
      } as const satisfies DecisionsActor;
      const project = await callOperation(
        db.orm,
        decisionsModule,
        projects.create,
        director,
        { name: `Fuzz project ${generation}` },
        resources,
      );
      if (live!.seeded && live!.director !== 1) {
        const owner = { projectId: project.id, userId: 1, role: 'owner' } as const;
        await callOperation(db.orm, decisionsModule, projects.addMember, director, owner, resources);
      }
      const decide = (title: string) =>
        callOperation(
          db.orm,
          decisionsModule,
          decisions.create,
          director,
          { projectId: project.id, title, statement: `${title}.`, confidence: 0.5 },
          resources,
        );
      const deleted = await decide('Fuzz decision to delete');
      await callOperation(
        db.orm,
        decisionsModule,
        decisions.delete,
        director,
        { decisionId: deleted.id },
        resources,
      );
      const first = await decide('Fuzz decision A');
      const second = await decide('Fuzz decision B');
      const newUser = (email: string, name: string) =>
        callOperation(
          db.orm,
          decisionsModule,
          users.create,
          director,
          { email, name, password: MINIMAL_PASSWORD },
          resources,
        );
      const member = await newUser(`fuzz-member-${generation}@example.com`, `Fuzz Member ${generation}`);
      const membership = { projectId: project.id, userId: member.id };
      await callOperation(db.orm, decisionsModule, projects.addMember, director, membership, resources);
      // A member in no value, whom only the example removes (random calls remove the generation's member).
      const leaver = await newUser(`fuzz-leaving-${generation}@example.com`, `Fuzz Leaving ${generation}`);
      const leaving = { projectId: project.id, userId: leaver.id };
      await callOperation(db.orm, decisionsModule, projects.addMember, director, leaving, resources);
      const gone = await newUser(`fuzz-deleted-${generation}@example.com`, `Fuzz Deleted ${generation}`);
      await callOperation(db.orm, decisionsModule, users.delete, director, { userId: gone.id }, resources);
      // A reset link for the member: `auth.resetPassword` sets the seed's password (every fixture user's) again.
      const reset = await callOperation(
        db.orm,
        decisionsModule,
        users.createPasswordReset,
        director,
        { userId: member.id },
        resources,
      );
      // A session and a key of user 1 (the harness's first decisions token, the seed's director): what
      // `auth.sessions.revoke` and `auth.keys.revoke` name — ids no answer of the harness's own calls shows.
      const [session, key] = await inRequestScope(db.orm, async (em) => [
        await openSession(em, decisionsModule, '1', { lifetimeMs: 3_600_000, refresh: false }),
        await createServiceKey(em, decisionsModule, '1', {
          name: `Fuzz key ${generation}`,
          readOnly: true,
          createdBy: '1',
        }),
      ]);
      return {
        examples: {
          'decisions.auth.resetPassword': [{ token: reset.token, newPassword: MINIMAL_PASSWORD }],
          'auth.sessions.revoke': [{ module: decisionsModule.name, sessionId: session.id }],
          'auth.keys.revoke': [{ module: decisionsModule.name, id: key.id }],
          // The generation's own live project: the fuzzer archives projects and deletes decisions of older ones.
          'decisions.decisions.relate': [
            { fromDecisionId: first.id, toDecisionId: second.id, kind: 'relates_to' },
          ],
          'decisions.projects.changeMemberRole': [
            { projectId: project.id, userId: member.id, role: 'viewer' },
          ],
          'decisions.projects.removeMember': [leaving],
          // The generation's deleted user: random calls restore users only with a director's token.
          'decisions.users.restore': [{ userId: gone.id }],
        },
        values: {
          projectId: [project.id],
          decisionId: [deleted.id, first.id, second.id],
          fromDecisionId: [first.id, second.id],
          toDecisionId: [second.id, first.id],
          userId: [gone.id, member.id],
        },
      };
    },
  };
}
