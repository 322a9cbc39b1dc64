/**
 * The whole planning-poker flow through the typed client, against a running API:
 *   pnpm start                      (in one terminal)
 *   pnpm example:poker [url]        (in another; url defaults to http://127.0.0.1:4000)
 * Three people join, the facilitator opens a session with two stories, everyone votes on the first (the last
 * vote reveals the round), the facilitator settles it; a subscriber prints the live events as they happen.
 */
import { createHuddleClient } from '@huddle/client';

const url = process.argv[2] ?? 'http://127.0.0.1:4000';
const anonymous = createHuddleClient(url);

async function person(name: string) {
  // Guests (no email): each run of the example is a new set of people.
  const { user, token } = await anonymous.poker.join.mutate({ name });
  return { user, client: createHuddleClient(url, token) };
}

const fay = await person('Fay');
const ann = await person('Ann');
const bob = await person('Bob');
console.log(`joined: ${[fay, ann, bob].map(({ user }) => `${user.name} (#${user.id})`).join(', ')}`);

const session = await fay.client.poker.sessions.create.mutate({
  name: `Sprint planning ${new Date().toISOString()}`,
});
// The facilitator shares the session's join code (say, as a link); joining needs it.
await ann.client.poker.sessions.join.mutate({ joinCode: session.joinCode! });
await bob.client.poker.sessions.join.mutate({ joinCode: session.joinCode!, role: 'voter' });
console.log(`session #${session.id} "${session.name}" created by ${fay.user.name}`);

const subscribed = Promise.withResolvers<void>();
const subscription = ann.client.poker.events.subscribe(
  { sessionId: session.id },
  {
    onData: (event) =>
      event.type === 'subscribed' ? subscribed.resolve() : console.log('  event:', JSON.stringify(event)),
    onError: (error) => console.error('  subscription error:', error.message),
  },
);
await subscribed.promise;

const login = await fay.client.poker.stories.add.mutate({
  sessionId: session.id,
  title: 'Sign in with a magic link',
});
await fay.client.poker.stories.add.mutate({ sessionId: session.id, title: 'Export estimates as CSV' });
await fay.client.poker.stories.startVoting.mutate({ storyId: login.id });
await fay.client.poker.votes.cast.mutate({ storyId: login.id, points: '5' });
await bob.client.poker.votes.cast.mutate({ storyId: login.id, points: '5' });

const before = await bob.client.poker.stories.summary.query({ storyId: login.id });
console.log(
  `before reveal Bob sees: ${JSON.stringify(before.votes.map((vote) => vote.points))}, own ${before.ownPoints}`,
);

// Ann's is the last vote missing: it reveals the round (the facilitator could reveal earlier).
await ann.client.poker.votes.cast.mutate({ storyId: login.id, points: '8' });
const summary = await bob.client.poker.stories.summary.query({ storyId: login.id });
console.log(`revealed: ${summary.votes.map((vote) => `${vote.name}=${vote.points}`).join(', ')}`);
console.log(`statistics: ${JSON.stringify(summary.statistics)}`);

const settled = await fay.client.poker.stories.complete.mutate({ storyId: login.id, finalPoints: '5' });
console.log(`"${settled.title}" completed with ${settled.finalPoints} points`);

// Give the last NOTIFY a moment to arrive before closing the stream.
await new Promise((resolve) => setTimeout(resolve, 300));
subscription.unsubscribe();
