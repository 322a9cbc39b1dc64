import type { Database } from '@huddle/db';
import type { DecisionsActor } from '../src/actor.ts';
import { decisionsOperations } from '../src/operations.ts';
import { actorOf, call, UNUSED_PASSWORD_HASH } from './helpers.ts';

let unique = 0;

/** A director inserted directly (no one can create the first one through the services). */
export async function newDirector(db: Database): Promise<DecisionsActor> {
  unique += 1;
  const rows: { id: number }[] = await db.orm.em
    .fork()
    .execute(
      `insert into decisions.users (email, name, password_hash, role) values (?, 'Director', ?, 'director') returning id`,
      [`director${unique}.${process.pid}@fixture.test`, UNUSED_PASSWORD_HASH],
    );
  return actorOf(rows[0]!);
}

/** A new member-role user, created by `director`. */
export async function newPerson(
  db: Database,
  director: DecisionsActor,
  name: string,
): Promise<DecisionsActor> {
  unique += 1;
  const user = await call(db, director, decisionsOperations.users.create, {
    email: `p${unique}.${process.pid}@fixture.test`,
    name,
    password: 'long-enough-1',
  });
  return actorOf(user);
}

/** A project owned by `owner` with `members` (role member) and `viewers` (role viewer). */
export async function newProject(
  db: Database,
  owner: DecisionsActor,
  others: { members?: DecisionsActor[]; viewers?: DecisionsActor[] } = {},
): Promise<number> {
  unique += 1;
  const project = await call(db, owner, decisionsOperations.projects.create, { name: `Project ${unique}` });
  for (const [role, people] of [
    ['member', others.members ?? []],
    ['viewer', others.viewers ?? []],
  ] as const) {
    for (const person of people) {
      await call(db, owner, decisionsOperations.projects.addMember, {
        projectId: project.id,
        userId: person.userId,
        role,
      });
    }
  }
  return project.id;
}

/** The people of a project: its owner, a member, a viewer, a stranger (no member), and the project. */
export interface ProjectCast {
  owner: DecisionsActor;
  member: DecisionsActor;
  viewer: DecisionsActor;
  stranger: DecisionsActor;
  projectId: number;
}

export async function newProjectCast(db: Database): Promise<ProjectCast> {
  const director = await newDirector(db);
  const owner = await newPerson(db, director, 'Olga Owner');
  const member = await newPerson(db, director, 'Max Member');
  const viewer = await newPerson(db, director, 'Vera Viewer');
  const stranger = await newPerson(db, director, 'Stan Stranger');
  const projectId = await newProject(db, owner, { members: [member], viewers: [viewer] });
  return { owner, member, viewer, stranger, projectId };
}
