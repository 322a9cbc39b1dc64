import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** Imports `specifier` in a fresh Node process and returns every module URL it loaded. */
async function loadedBy(specifier: string): Promise<string[]> {
  const script = `
    import { registerHooks } from 'node:module';
    const loaded = [];
    registerHooks({ resolve(specifier, context, next) { const result = next(specifier, context); loaded.push(result.url); return result; } });
    await import(${JSON.stringify(specifier)});
    process.stdout.write(JSON.stringify(loaded));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: import.meta.dirname,
  });
  return JSON.parse(stdout) as string[];
}

describe('the typed client', () => {
  it.each(['@huddle/api', '@huddle/client'])(
    '%s loads the tRPC client and types only, never the server',
    async (specifier) => {
      const loaded = await loadedBy(specifier);
      expect(loaded.some((url) => url.includes('@trpc/client'))).toBe(true);
      // @trpc/client shares tRPC's core helpers from the @trpc/server package; no server code loads.
      const server = loaded.filter((url) =>
        /@mikro-orm|\/pg\/|pglite|\/fast-jwt\/|\/kysely\/|\/pino\/|\/packages\/(?!client\/)|adapters\/standalone/.test(
          url,
        ),
      );
      expect(server).toEqual([]);
      const ours = new Set(
        loaded.map((url) => /(apps\/api|packages\/client)\/src\/.*/.exec(url)?.[0]).filter(Boolean),
      );
      const client = [
        'index.ts',
        'client.ts',
        'errors.ts',
        'idempotency-key.ts',
        'limits.ts',
        'read-position.ts',
      ];
      expect(ours).toEqual(
        new Set([
          ...(specifier === '@huddle/api' ? ['apps/api/src/index.ts'] : []),
          ...client.map((file) => `packages/client/src/${file}`),
        ]),
      );
    },
  );
});

describe('a domain package’s schemas', () => {
  it('load without the ORM', async () => {
    const loaded = await loadedBy('@huddle/poker/schemas');
    expect(loaded.filter((url) => /@mikro-orm|\/pg\/|pglite|\/kysely\//.test(url))).toEqual([]);
  });
});
