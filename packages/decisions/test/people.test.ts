import {
  ConflictError,
  type EntityManager,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  parseInput,
  runAnonymously,
  seed,
  UnauthorizedError,
} from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DecisionsActor } from '../src/actor.ts';
import { decisionsModule } from '../src/module.ts';
import { decisionsOperations } from '../src/operations.ts';
import { defaultDecisionsResources } from '../src/resources.ts';
import type { changeMemberRole } from '../src/services/projects.ts';
import {
  actorOf,
  asActor,
  call,
  callStepped,
  expectHuddleError,
  inRequest,
  signInAs,
  useSqlClient,
} from './helpers.ts';

const test = useTestDatabase([decisionsModule]);
const postgres = useSqlClient(test);
let director: DecisionsActor;

beforeAll(async () => {
  await seed(test.db, 'minimal');
  director = actorOf(await signInAs(test.db, { email: 'test@example.com', password: 'password' }));
});

let unique = 0;
async function newUser(
  role: 'member' | 'director' | 'viewer' = 'member',
): Promise<{ id: number; actor: DecisionsActor; email: string }> {
  unique += 1;
  const email = `person${unique}@people.test`;
  const user = await call(test.db, director, decisionsOperations.users.create, {
    email,
    name: `Person ${unique}`,
    password: 'initial-pass',
    role,
  });
  return { id: user.id, actor: actorOf(user), email };
}

describe('sign-in', () => {
  it('returns the user for the right email (any case) and password', async () => {
    const user = await signInAs(test.db, { email: 'TEST@example.com', password: 'password' });
    expect(user).toMatchObject({
      email: 'test@example.com',
      name: 'Test Director',
      role: 'director',
      deletedAt: null,
    });
    expect(user).not.toHaveProperty('passwordHash');
  });

  it('gives a wrong password and an unknown email the same answer', async () => {
    const wrong = await expectHuddleError(
      signInAs(test.db, { email: 'test@example.com', password: 'nope' }),
      UnauthorizedError,
    );
    const unknown = await expectHuddleError(
      signInAs(test.db, { email: 'nobody@example.com', password: 'password' }),
      UnauthorizedError,
    );
    expect(unknown.message).toBe(wrong.message);
  });

  it('stores a bcrypt hash, never the password', async () => {
    const { rows } = await postgres.client.query(
      `select password_hash from decisions.users where email = 'test@example.com'`,
    );
    expect(rows[0].password_hash).toMatch(/^\$2[aby]\$10\$/);
  });

  it('refuses a soft-deleted user with the same answer, and lets them in again once restored', async () => {
    const user = await newUser();
    await call(test.db, director, decisionsOperations.users.delete, { userId: user.id });
    const error = await expectHuddleError(
      signInAs(test.db, { email: user.email, password: 'initial-pass' }),
      UnauthorizedError,
    );
    expect(error.message).toBe('password: wrong email or password');
    await expectHuddleError(
      asActor(test.db, user.actor, async () => 'ran'),
      UnauthorizedError,
    );
    await call(test.db, director, decisionsOperations.users.restore, { userId: user.id });
    expect((await signInAs(test.db, { email: user.email, password: 'initial-pass' })).id).toBe(user.id);
  });
});

describe('user management', () => {
  it('lets only directors create users, and refuses an active email in another case', async () => {
    const member = await newUser();
    const refused = await expectHuddleError(
      call(test.db, member.actor, decisionsOperations.users.create, {
        email: 'x@people.test',
        name: 'X',
        password: 'long-enough',
      }),
      ForbiddenError,
    );
    expect(refused.message).toBe('email: only a director may create users (you are member)');
    expect(refused.constraint.field).toBe('email');
    const error = await expectHuddleError(
      call(test.db, director, decisionsOperations.users.create, {
        email: member.email.toUpperCase(),
        name: 'Dup',
        password: 'long-enough',
      }),
      ConflictError,
    );
    expect(error.constraint.constraint).toBe('users_email_active_unique');
  });

  it('names the field and rule of bad input, and writes nothing', async () => {
    const before = await postgres.client.query('select count(*) from decisions.users');
    const error = await expectHuddleError(
      call(test.db, director, decisionsOperations.users.create, {
        email: 'short@people.test',
        name: 'S',
        password: 'short',
      }),
      InvalidInputError,
    );
    expect(error.message).toMatch(/^password: /);
    expect(error.constraint.field).toBe('password');
    const after = await postgres.client.query('select count(*) from decisions.users');
    expect(after.rows).toEqual(before.rows);
  });

  it('lets a deleted user’s email be registered again, and then refuses to restore the old account', async () => {
    const user = await newUser();
    await call(test.db, director, decisionsOperations.users.delete, { userId: user.id });
    const again = await call(test.db, director, decisionsOperations.users.create, {
      email: user.email,
      name: 'Again',
      password: 'long-enough',
    });
    expect(again.id).not.toBe(user.id);
    await expectHuddleError(
      call(test.db, director, decisionsOperations.users.restore, { userId: user.id }),
      ConflictError,
    );
  });

  it('changes roles, takes effect on the next request, and never demotes or deletes the last director', async () => {
    const user = await newUser();
    await call(test.db, director, decisionsOperations.users.changeRole, {
      userId: user.id,
      role: 'director',
    });
    expect((await asActor(test.db, user.actor, async (_em, actor) => actor)).role).toBe('director');
    await call(test.db, user.actor, decisionsOperations.users.changeRole, {
      userId: user.id,
      role: 'member',
    });
    await expectHuddleError(
      call(test.db, director, decisionsOperations.users.changeRole, {
        userId: director.userId,
        role: 'member',
      }),
      ConflictError,
    );
    await expectHuddleError(
      call(test.db, director, decisionsOperations.users.delete, { userId: director.userId }),
      ConflictError,
    );
  });

  it('lists active users to anyone, deleted ones only to directors', async () => {
    const user = await newUser();
    await call(test.db, director, decisionsOperations.users.delete, { userId: user.id });
    const active = await call(test.db, director, decisionsOperations.users.list, undefined);
    expect(active.items.map((row) => row.id)).not.toContain(user.id);
    const all = await call(test.db, director, decisionsOperations.users.list, { includeDeleted: true });
    expect(all.items.find((row) => row.id === user.id)?.deletedAt).not.toBeNull();
    const member = await newUser();
    const refused = await expectHuddleError(
      call(test.db, member.actor, decisionsOperations.users.list, { includeDeleted: true }),
      ForbiddenError,
    );
    expect(refused.message).toBe('includeDeleted: only a director may see deleted users (you are member)');
  });

  it('changes the own password only with the current one', async () => {
    const user = await newUser();
    await expectHuddleError(
      callStepped(test.db, user.actor, decisionsOperations.users.changePassword, {
        currentPassword: 'wrong',
        newPassword: 'brand-new-pass',
      }),
      UnauthorizedError,
    );
    await callStepped(test.db, user.actor, decisionsOperations.users.changePassword, {
      currentPassword: 'initial-pass',
      newPassword: 'brand-new-pass',
    });
    await expectHuddleError(
      signInAs(test.db, { email: user.email, password: 'initial-pass' }),
      UnauthorizedError,
    );
    expect((await signInAs(test.db, { email: user.email, password: 'brand-new-pass' })).id).toBe(user.id);
  });
});

describe('password reset links', () => {
  const resetOperation = decisionsOperations.auth.resetPassword;
  /** Redeems a link as `decisions.auth.resetPassword` does: parsed at the edge, then as nobody yet. */
  const redeem = async (token: string, newPassword: string) =>
    resetOperation.run(
      Object.assign(
        <T>(work: (em: EntityManager) => Promise<T>) => runAnonymously(test.db.orm, decisionsModule, work),
        {
          asOwner: <T>(work: (em: EntityManager) => Promise<T>) => inRequest(test.db, work),
        },
      ),
      parseInput(resetOperation.input, { token, newPassword }),
      defaultDecisionsResources(),
    );
  const storedResets = async (userId: number) =>
    (
      await postgres.client.query(
        'select token_hash, created_by_id, round(extract(epoch from expires_at - created_at) / 60)::int as minutes from decisions.password_resets where user_id = $1',
        [userId],
      )
    ).rows;

  it('a director makes a one-time link, stored hashed; redeeming it sets the password once', async () => {
    const user = await newUser();
    const reset = await call(test.db, director, decisionsOperations.users.createPasswordReset, {
      userId: user.id,
    });
    expect(reset).toMatchObject({ userId: user.id, email: user.email });
    expect(await storedResets(user.id)).toEqual([
      { token_hash: expect.stringMatching(/^[0-9a-f]{64}$/), created_by_id: director.userId, minutes: 60 },
    ]);
    expect(JSON.stringify(await storedResets(user.id))).not.toContain(reset.token);
    expect((await redeem(reset.token, 'reset-password-1')).id).toBe(user.id);
    expect((await signInAs(test.db, { email: user.email, password: 'reset-password-1' })).id).toBe(user.id);
    const reused = await expectHuddleError(redeem(reset.token, 'reset-password-2'), UnauthorizedError);
    expect(reused.message).toMatch(/^token: is not a valid password reset link /);
    expect((await signInAs(test.db, { email: user.email, password: 'reset-password-1' })).id).toBe(user.id);
    expect(await storedResets(user.id)).toEqual([]);
  });

  it('refuses an expired, replaced or made-up link, a deleted user’s, and a member making one; nothing changes', async () => {
    const user = await newUser();
    const member = await newUser();
    const forbidden = await expectHuddleError(
      call(test.db, member.actor, decisionsOperations.users.createPasswordReset, { userId: user.id }),
      ForbiddenError,
    );
    expect(forbidden.message).toMatch(/^userId: only a director may reset passwords/);
    const replaced = await call(test.db, director, decisionsOperations.users.createPasswordReset, {
      userId: user.id,
    });
    const latest = await call(test.db, director, decisionsOperations.users.createPasswordReset, {
      userId: user.id,
    });
    await expectHuddleError(redeem(replaced.token, 'not-applied-1'), UnauthorizedError);
    await expectHuddleError(redeem('x'.repeat(43), 'not-applied-2'), UnauthorizedError);
    await postgres.client.query(
      `update decisions.password_resets set expires_at = now() - interval '1 second' where user_id = $1`,
      [user.id],
    );
    await expectHuddleError(redeem(latest.token, 'not-applied-3'), UnauthorizedError);
    const malformed = await expectHuddleError(redeem('short', 'not-applied-4'), InvalidInputError);
    expect(malformed.message).toMatch(/^token: /);
    const deleted = await call(test.db, director, decisionsOperations.users.createPasswordReset, {
      userId: user.id,
    });
    await call(test.db, director, decisionsOperations.users.delete, { userId: user.id });
    await expectHuddleError(redeem(deleted.token, 'not-applied-5'), UnauthorizedError);
    await expectHuddleError(
      call(test.db, director, decisionsOperations.users.createPasswordReset, { userId: user.id }),
      NotFoundError,
    );
    await call(test.db, director, decisionsOperations.users.restore, { userId: user.id });
    expect((await signInAs(test.db, { email: user.email, password: 'initial-pass' })).id).toBe(user.id);
  });

  it('a password change drops a pending reset link', async () => {
    const user = await newUser();
    const reset = await call(test.db, director, decisionsOperations.users.createPasswordReset, {
      userId: user.id,
    });
    await callStepped(test.db, user.actor, decisionsOperations.users.changePassword, {
      currentPassword: 'initial-pass',
      newPassword: 'changed-pass-1',
    });
    await expectHuddleError(redeem(reset.token, 'not-applied-6'), UnauthorizedError);
    expect((await signInAs(test.db, { email: user.email, password: 'changed-pass-1' })).id).toBe(user.id);
  });
});

describe('projects and members', () => {
  it('makes the creator the owner, lists my projects, and archived ones only when asked', async () => {
    const owner = await newUser();
    const project = await call(test.db, owner.actor, decisionsOperations.projects.create, {
      name: 'Roadmap',
      description: 'Q3',
    });
    expect(project).toMatchObject({
      name: 'Roadmap',
      description: 'Q3',
      createdBy: owner.id,
      myRole: 'owner',
      archivedAt: null,
    });
    const other = await call(test.db, owner.actor, decisionsOperations.projects.create, {
      name: 'Old stuff',
    });
    const archived = await call(test.db, owner.actor, decisionsOperations.projects.archive, {
      projectId: other.id,
    });
    expect(archived.archivedAt).not.toBeNull();
    // Created third, listed last: by name, not by id.
    const last = await call(test.db, owner.actor, decisionsOperations.projects.create, { name: 'Zebra' });
    const live = await call(test.db, owner.actor, decisionsOperations.projects.mine, undefined);
    expect(live).toEqual({ items: [project, last], nextCursor: null });
    const all = await call(test.db, owner.actor, decisionsOperations.projects.mine, {
      includeArchived: true,
    });
    expect(all.items).toEqual([archived, project, last]);
    expect(
      await call(test.db, owner.actor, decisionsOperations.projects.get, { projectId: other.id }),
    ).toEqual(archived);
  });

  it('frees an archived project’s name, and refuses to unarchive while another live project has it', async () => {
    const owner = await newUser();
    const first = await call(test.db, owner.actor, decisionsOperations.projects.create, { name: 'Phoenix' });
    await expectHuddleError(
      call(test.db, owner.actor, decisionsOperations.projects.create, { name: 'PHOENIX' }),
      ConflictError,
    );
    await call(test.db, owner.actor, decisionsOperations.projects.archive, { projectId: first.id });
    await call(test.db, owner.actor, decisionsOperations.projects.create, { name: 'phoenix' });
    const error = await expectHuddleError(
      call(test.db, owner.actor, decisionsOperations.projects.unarchive, { projectId: first.id }),
      ConflictError,
    );
    expect(error.constraint.constraint).toBe('projects_name_live_unique');
  });

  it('shows a project only to its members; viewers read, members cannot administer', async () => {
    const owner = await newUser();
    const [viewer, member, stranger] = [await newUser(), await newUser(), await newUser()];
    const project = await call(test.db, owner.actor, decisionsOperations.projects.create, {
      name: 'Secret plans',
    });
    await call(test.db, owner.actor, decisionsOperations.projects.addMember, {
      projectId: project.id,
      userId: viewer.id,
      role: 'viewer',
    });
    await call(test.db, owner.actor, decisionsOperations.projects.addMember, {
      projectId: project.id,
      userId: member.id,
    });
    await expectHuddleError(
      call(test.db, stranger.actor, decisionsOperations.projects.get, { projectId: project.id }),
      NotFoundError,
    );
    await expectHuddleError(
      call(test.db, director, decisionsOperations.projects.get, { projectId: project.id }),
      NotFoundError,
    );
    expect(
      (await call(test.db, viewer.actor, decisionsOperations.projects.get, { projectId: project.id })).myRole,
    ).toBe('viewer');
    await expectHuddleError(
      call(test.db, member.actor, decisionsOperations.projects.addMember, {
        projectId: project.id,
        userId: stranger.id,
      }),
      ForbiddenError,
    );
    await expectHuddleError(
      call(test.db, member.actor, decisionsOperations.projects.archive, { projectId: project.id }),
      ForbiddenError,
    );
    const members = await call(test.db, viewer.actor, decisionsOperations.projects.members, {
      projectId: project.id,
    });
    expect(members.items.map((row) => [row.userId, row.role]).sort()).toEqual(
      [
        [owner.id, 'owner'],
        [viewer.id, 'viewer'],
        [member.id, 'member'],
      ].sort(),
    );
  });

  // Before: changing a deleted member's role was a 500 (its member row read back as nothing), and a deleted
  // co-owner counted as the owner that let the last live one leave.
  it('treats a deleted member as gone, and never counts a deleted owner as the project’s owner', async () => {
    const owner = await newUser();
    const coOwner = await newUser();
    const project = await call(test.db, owner.actor, decisionsOperations.projects.create, {
      name: 'Deleted owners',
    });
    await call(test.db, owner.actor, decisionsOperations.projects.addMember, {
      projectId: project.id,
      userId: coOwner.id,
      role: 'owner',
    });
    await call(test.db, director, decisionsOperations.users.delete, { userId: coOwner.id });
    const gone = await expectHuddleError(
      call(test.db, owner.actor, decisionsOperations.projects.changeMemberRole, {
        projectId: project.id,
        userId: coOwner.id,
        role: 'viewer',
      }),
      NotFoundError,
    );
    expect(gone.constraint.field).toBe('userId');
    // One at a time: started together, a refusal could come before the loop awaits it (unhandled).
    for (const leaving of [
      () =>
        call(test.db, owner.actor, decisionsOperations.projects.removeMember, {
          projectId: project.id,
          userId: owner.id,
        }),
      () =>
        call(test.db, owner.actor, decisionsOperations.projects.changeMemberRole, {
          projectId: project.id,
          userId: owner.id,
          role: 'member',
        }),
      () => call(test.db, director, decisionsOperations.users.delete, { userId: owner.id }),
    ]) {
      const error = await expectHuddleError(leaving(), ConflictError);
      expect(error.message).toMatch(/last live owner/);
    }
    const { rows } = await postgres.client.query(
      `select m.user_id, m.role, u.deleted_at is null as live from decisions.project_members m
       join decisions.users u on u.id = m.user_id where m.project_id = $1 order by m.user_id`,
      [project.id],
    );
    expect(rows).toEqual([
      { user_id: owner.id, role: 'owner', live: true },
      { user_id: coOwner.id, role: 'owner', live: false },
    ]);
  });

  // Before: a name another user's project held was a 409 naming projects_name_live_unique, telling a
  // non-member that project existed.
  it('lets users name projects alike, conflicting only with their own live projects', async () => {
    const [first, second] = [await newUser(), await newUser()];
    await call(test.db, first.actor, decisionsOperations.projects.create, { name: 'Hidden name' });
    const mine = await call(test.db, second.actor, decisionsOperations.projects.create, {
      name: 'HIDDEN NAME',
    });
    expect(mine).toMatchObject({ name: 'HIDDEN NAME', myRole: 'owner' });
    await expectHuddleError(
      call(test.db, second.actor, decisionsOperations.projects.create, { name: 'hidden name' }),
      ConflictError,
    );
    const { rows } = await postgres.client.query(
      `select count(*)::int as n from decisions.projects where lower(name) = 'hidden name'`,
    );
    expect(rows[0].n).toBe(2);
  });

  it('adds, changes and removes members; the last owner can neither be demoted nor leave', async () => {
    const owner = await newUser();
    const other = await newUser();
    const project = await call(test.db, owner.actor, decisionsOperations.projects.create, {
      name: 'Ownership',
    });
    await call(test.db, owner.actor, decisionsOperations.projects.addMember, {
      projectId: project.id,
      userId: other.id,
    });
    await expectHuddleError(
      call(test.db, owner.actor, decisionsOperations.projects.addMember, {
        projectId: project.id,
        userId: other.id,
      }),
      ConflictError,
    );
    await expectHuddleError(
      call(test.db, owner.actor, decisionsOperations.projects.removeMember, {
        projectId: project.id,
        userId: owner.id,
      }),
      ConflictError,
    );
    await expectHuddleError(
      call(test.db, owner.actor, decisionsOperations.projects.changeMemberRole, {
        projectId: project.id,
        userId: owner.id,
        role: 'member',
      }),
      ConflictError,
    );
    const noRole = await expectHuddleError(
      call(test.db, owner.actor, decisionsOperations.projects.changeMemberRole, {
        projectId: project.id,
        userId: other.id,
      } as Parameters<typeof changeMemberRole>[2]),
      InvalidInputError,
    );
    expect(noRole.constraint.field).toBe('role');
    const promoted = await call(test.db, owner.actor, decisionsOperations.projects.changeMemberRole, {
      projectId: project.id,
      userId: other.id,
      role: 'owner',
    });
    expect(promoted.role).toBe('owner');
    await call(test.db, owner.actor, decisionsOperations.projects.removeMember, {
      projectId: project.id,
      userId: owner.id,
    });
    const { rows } = await postgres.client.query(
      'select user_id, role from decisions.project_members where project_id = $1',
      [project.id],
    );
    expect(rows).toEqual([{ user_id: other.id, role: 'owner' }]);
  });
});
