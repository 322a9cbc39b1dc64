import { createServer } from 'node:net';
import { ConfigurationError } from '@huddle/db';

/**
 * Binds `host:port` once and lets it go, before anything is opened, migrated or seeded: an address in use,
 * or one this user may not bind, fails the start at once with one line naming the variable to change,
 * instead of after the database work with `listen EADDRINUSE`.
 */
export async function checkListenAddress(host: string, port: number): Promise<void> {
  const probe = createServer();
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, host, resolve);
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new ConfigurationError(
        `HUDDLE_PORT: ${address} is in use by another process (set HUDDLE_PORT to a free port, or stop that process)`,
        {},
        { cause: error },
      );
    }
    if (code === 'EACCES') {
      throw new ConfigurationError(
        `HUDDLE_PORT: this user may not listen on ${address} (set HUDDLE_PORT to a port above 1023)`,
        {},
        { cause: error },
      );
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new ConfigurationError(
        `HUDDLE_HOST: ${host} is not an address of this machine`,
        {},
        { cause: error },
      );
    }
    throw error;
  }
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}
