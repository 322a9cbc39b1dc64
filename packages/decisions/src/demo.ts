import { type DemoContext, inRequestScope } from '@huddle/db';
import type { DecisionsActor } from './actor.ts';
import type { DecisionsResources } from './resources.ts';
import { listProjectsInputSchema } from './schemas.ts';
import { MINIMAL_PASSWORD, MINIMAL_PROJECTS, MINIMAL_USERS } from './seeders/minimal.ts';
import { listMyProjects } from './services/projects.ts';
import { signIn } from './services/users.ts';
import { DECISIONS_WEBHOOK_PATH, DECISIONS_WEBHOOK_SECRET_VARIABLE } from './webhook.ts';

/**
 * The start banner's examples: the seeded director's sign-in, and a signed webhook delivery into the seeded
 * project when a secret is configured (the secret itself is never printed: the example reads it from the
 * environment variable).
 */
export async function decisionsDemo({
  db,
  url,
  resources,
}: DemoContext<DecisionsActor, DecisionsResources>): Promise<string[]> {
  const director = { email: MINIMAL_USERS[0].email, password: MINIMAL_PASSWORD };
  const lines = [
    `Decisions, as the seeded director ${director.email} (the answer holds a decisions token):`,
    `  curl -s -H 'content-type: application/json' -d '${JSON.stringify(director)}' ${url}/decisions.auth.signIn`,
  ];
  if (resources.webhookSecrets.length === 0) {
    lines.push(
      `The decisions webhook (POST ${url}${DECISIONS_WEBHOOK_PATH}) answers 412 until ${DECISIONS_WEBHOOK_SECRET_VARIABLE} is set;`,
      `  deliveries are signed: x-huddle-signature: sha256=<hex HMAC-SHA256 of "<x-huddle-timestamp>.<body>">.`,
    );
    return lines;
  }
  const projects = await inRequestScope(db.orm, async (em) => {
    const user = await signIn(em, director);
    const actor: DecisionsActor = { module: 'decisions', userId: user.id, role: user.role };
    return listMyProjects(em, actor, listProjectsInputSchema.parse({}));
  });
  const project = projects.items.find((candidate) => candidate.name === MINIMAL_PROJECTS[0]);
  if (!project) return lines;
  const body = JSON.stringify({
    webhookId: 'demo-delivery-1',
    projectId: project.id,
    title: 'Architecture sync',
    meetingAt: '2026-11-22T09:00:00Z',
    participants: [{ name: 'Ann', email: 'ann@example.com' }, { name: 'Bob' }],
    content: 'Ann: We decided to adopt Kafka for the event bus.\nBob: Agreed.',
  });
  lines.push(
    `A transcript delivered to the webhook, signed with $${DECISIONS_WEBHOOK_SECRET_VARIABLE}:`,
    `  BODY='${body}'; TS=$(date +%s)`,
    `  SIG="sha256=$(printf '%s.%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$${DECISIONS_WEBHOOK_SECRET_VARIABLE}" -hex | sed 's/^.* //')"`,
    `  curl -s -H 'content-type: application/json' -H "x-huddle-timestamp: $TS" -H "x-huddle-signature: $SIG" --data-binary "$BODY" ${url}${DECISIONS_WEBHOOK_PATH}`,
  );
  return lines;
}
