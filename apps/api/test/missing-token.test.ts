import { domainModules, issueSessionToken } from '@huddle/composition';
import { findModule } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../src/server.ts';
import { startTestServer, TEST_SECRET } from './helpers.ts';

const database = useTestDatabase(domainModules);
let server: ApiServer;
beforeAll(async () => {
  server = await startTestServer(database.db);
});
afterAll(() => server?.close());

describe('a call without a token', () => {
  it.each([
    ['poker', 'poker.me', 'poker.join'],
    ['scrum', 'scrum.users.me', 'huddle token issue --module scrum --user <id>'],
    ['decisions', 'decisions.projects.mine', 'decisions.auth.signIn'],
    ['planner', 'planner.repositories.list', 'huddle token issue --module planner --user <operator>'],
  ])('to %s (%s) names how to get one', async (module, procedure, howToGetOne) => {
    const response = await fetch(`${server.url}/${procedure}`);
    expect(response.status).toBe(401);
    const { error } = (await response.json()) as { error: { message: string } };
    expect(error.message).toBe(
      `authorization: a bearer token for module ${module} is required; ${findModule(domainModules, module).signInHint}`,
    );
    expect(error.message).toContain(howToGetOne);
  });

  it('with another module’s token is told how to get the right one', async () => {
    const { token } = await issueSessionToken(database.db, TEST_SECRET, { module: 'poker', subject: '1' });
    const response = await fetch(`${server.url}/planner.repositories.list`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
      'token is for module poker, not planner; an operator issues planner tokens',
    );
  });
});
