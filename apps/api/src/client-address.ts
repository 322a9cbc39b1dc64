import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { ConfigurationError } from '@huddle/db';

/**
 * Which address a request comes from, for the sign-in limits (sign-in-limits.ts). Behind a reverse proxy
 * or load balancer every TCP connection comes from the proxy, so every client would share one address's
 * limits; the proxy says who its client was in `X-Forwarded-For`. That header is believed only from the
 * proxies named in HUDDLE_TRUSTED_PROXIES: any client can send one, so from anyone else it is ignored.
 */

export const TRUSTED_PROXIES_VARIABLE = 'HUDDLE_TRUSTED_PROXIES';

/** An IPv4 address as Node reports it on a dual-stack socket (`::ffff:10.0.0.1`) is that IPv4 address. */
function plainAddress(address: string): string {
  const mapped = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : '';
  return isIP(mapped) === 4 ? mapped : address;
}

/** HUDDLE_TRUSTED_PROXIES: the proxies' IP addresses, comma-separated; unset or empty, none. */
export function trustedProxiesFromEnv(env: NodeJS.ProcessEnv = process.env): Set<string> {
  const proxies = (env[TRUSTED_PROXIES_VARIABLE] ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const proxy of proxies) {
    if (isIP(proxy) === 0) {
      throw new ConfigurationError(`${TRUSTED_PROXIES_VARIABLE}: "${proxy}" is not an IP address`);
    }
  }
  return new Set(proxies.map(plainAddress));
}

/**
 * The TCP peer's address; when the peer is a trusted proxy, the rightmost `X-Forwarded-For` entry that is
 * not a trusted proxy itself (each proxy appends the address it was connected from, so entries further
 * left were written by the client and could be anything).
 */
export function clientAddressOf(req: IncomingMessage, trustedProxies: ReadonlySet<string>): string {
  let address = plainAddress(req.socket.remoteAddress ?? 'unknown');
  const forwarded = req.headers['x-forwarded-for'];
  if (!trustedProxies.has(address) || forwarded === undefined) return address;
  const hops = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded).split(',');
  for (let hop = hops.length - 1; hop >= 0; hop--) {
    const entry = hops[hop]!.trim();
    if (!entry) continue;
    address = plainAddress(entry);
    if (!trustedProxies.has(address)) break;
  }
  return address;
}
