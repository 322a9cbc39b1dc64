// The typed client, for programs that depend on the API package: the same exports as @huddle/client.
export * from '@huddle/client';
