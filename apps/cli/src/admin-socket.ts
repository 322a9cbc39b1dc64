import { once } from 'node:events';
import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { AdminCommands } from '@huddle/api/admin-commands';
import { ConfigurationError, type Database, DatabaseUnavailableError, DataDirInUseError } from '@huddle/db';
import { z } from 'zod';
import type { CliIo } from './context.ts';

/**
 * The CLI's commands while a server holds the embedded database. The data directory stays one process's
 * (its lock is untouched): a CLI process that finds it held by a server hands the whole command — its
 * arguments, environment and working directory — over a Unix socket to that server, which runs it with
 * `runCli` on its own open database and streams stdout, stderr and the exit code back. The same code runs
 * either way, so the output and exit code are the ones the command gives with the server stopped.
 *
 * The socket is `huddle-admin/cli.sock` in the data directory: the directory is 0700 and the socket 0600,
 * both the server's user's, so only that user (and root) can connect — the same people who could open the
 * data directory with the server stopped.
 */
export function adminSocketPath(dataDir: string): string {
  return path.join(dataDir, 'huddle-admin', 'cli.sock');
}

/** A Unix socket's path fits in `sun_path`: 108 bytes on Linux, 104 on macOS, the terminating NUL included. */
const MAX_SOCKET_PATH_BYTES = process.platform === 'linux' ? 107 : 103;
/** A request is arguments, environment and a directory: far less than this. */
const MAX_REQUEST_BYTES = 1024 * 1024;

const requestSchema = z.object({
  argv: z.array(z.string()),
  env: z.record(z.string(), z.string()),
  cwd: z.string(),
  pid: z.number().int().positive(),
  // A terminal without a window size (a pty under script, CI) has 0 columns.
  stderr: z.object({ isTTY: z.boolean(), columns: z.number().int().nonnegative().optional() }),
});
type AdminRequest = z.infer<typeof requestSchema>;

/** What the server sends back: JSON objects, one a line, the exit code last. */
type Frame = { stdout: string } | { stderr: string } | { exit: number };

/** Writes one frame; a client that went away (Ctrl-C) gets nothing more, and the command runs to its end. */
function send(socket: net.Socket, frame: Frame, done: () => void = () => undefined): void {
  if (socket.writable) socket.write(`${JSON.stringify(frame)}\n`, () => done());
  else done();
}

/** A stream whose writes become frames of `name` on the socket, paced by it. */
function frameStream(socket: net.Socket, name: 'stdout' | 'stderr'): Writable {
  return new Writable({
    decodeStrings: false,
    write(chunk: Buffer | string, _encoding, done) {
      send(socket, name === 'stdout' ? { stdout: String(chunk) } : { stderr: String(chunk) }, done);
    },
  });
}

/** The first line the client sends: its request. */
async function readRequest(socket: net.Socket): Promise<AdminRequest> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  // Leaves the socket open for the answer once the line is read.
  for await (const chunk of socket.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    const end = chunk.indexOf(0x0a);
    chunks.push(end === -1 ? chunk : chunk.subarray(0, end));
    bytes += chunk.length;
    if (end !== -1) return requestSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    if (bytes > MAX_REQUEST_BYTES) throw new Error(`a request is at most ${MAX_REQUEST_BYTES} bytes`);
  }
  throw new Error('the connection ended before the request');
}

type RunCli = (argv: readonly string[], io: CliIo) => Promise<number>;

/** Runs one handed-over command on `db` and answers with its output and exit code. */
async function answer(socket: net.Socket, db: Database, dataDir: string, runCli: RunCli): Promise<void> {
  let request: AdminRequest;
  try {
    request = await readRequest(socket);
  } catch (error) {
    const reason =
      error instanceof z.ZodError ? 'not a request of this version of huddle' : (error as Error).message;
    send(socket, {
      stderr: `huddle: the server (process ${process.pid}) could not read the command: ${reason}\n`,
    });
    return send(socket, { exit: 1 }, () => socket.end());
  }
  const stdout = frameStream(socket, 'stdout');
  const stderr = Object.assign(frameStream(socket, 'stderr'), request.stderr);
  const code = await runCli(request.argv, {
    stdout,
    stderr,
    env: request.env,
    cwd: request.cwd,
    handedOver: { database: db, dataDir, clientPid: request.pid },
  });
  await Promise.all([finished(stdout.end()), finished(stderr.end())]);
  send(socket, { exit: code }, () => socket.end());
}

/**
 * Takes the CLI's commands on the server's open embedded database `db` (whose data directory lock this
 * process holds) until closed; errors after it listens go to `onError`. Plugged into the API by `huddle serve`
 * (`useAdminCommands`).
 */
export async function serveAdminCommands(
  db: Database,
  runCli: RunCli,
  onError: (error: Error) => void,
): Promise<AdminCommands> {
  if (db.target.kind !== 'pglite')
    throw new ConfigurationError('admin commands: only on the embedded database');
  const { dataDir } = db.target;
  const socketPath = adminSocketPath(dataDir);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    throw new ConfigurationError(
      `${socketPath} is longer than a Unix socket's path may be (${MAX_SOCKET_PATH_BYTES} bytes): a shorter HUDDLE_DATA_DIR lets the CLI work while the server runs`,
    );
  }
  const directory = path.dirname(socketPath);
  await mkdir(directory, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  // Not a link, and this user's: nobody else may have made it, nor see into it.
  const made = await lstat(directory);
  if (!made.isDirectory() || made.uid !== process.getuid?.()) {
    throw new ConfigurationError(`${directory}: must be a directory of this user`);
  }
  await chmod(directory, 0o700);
  // This process holds the data directory's lock: a socket left here is a killed server's.
  await rm(socketPath, { force: true });

  // One command at a time, in the order they came, as the data directory's lock has it: two `migrate up`
  // must not both find a migration pending (the migration lock is PostgreSQL's, not the embedded one's).
  let previous: Promise<unknown> = Promise.resolve();
  const runInTurn: RunCli = (argv, io) => {
    const turn = previous.then(() => runCli(argv, io));
    previous = turn;
    return turn;
  };
  const connections = new Set<net.Socket>();
  const running = new Set<Promise<void>>();
  const server = net.createServer((socket) => {
    connections.add(socket);
    // A client that goes away mid-command is not an error of the server's.
    socket.on('error', () => undefined);
    socket.once('close', () => connections.delete(socket));
    const command = answer(socket, db, dataDir, runInTurn)
      .catch(() => {
        socket.destroy();
      })
      .finally(() => running.delete(command));
    running.add(command);
  });
  server.listen(socketPath);
  await once(server, 'listening');
  server.on('error', onError);
  await chmod(socketPath, 0o600);
  return {
    async close(drainMs) {
      const closed = new Promise((resolve) => server.close(resolve));
      await Promise.race([Promise.allSettled([...running]), delay(drainMs)]);
      for (const socket of connections) socket.destroy();
      await closed;
    },
  };
}

/**
 * Hands the command to the server holding the embedded data directory, when `error` says a process holds
 * it and that process takes commands: resolves with the command's exit code, its output written to `io`
 * as it comes. Undefined when there is no such server (another CLI command, an app embedding a package,
 * a server still starting): the caller reports `error`.
 */
export async function handToServer(
  error: unknown,
  argv: readonly string[],
  io: CliIo,
): Promise<number | undefined> {
  if (!(error instanceof DataDirInUseError) || io.handedOver) return undefined;
  const socket = net.connect(adminSocketPath(error.dataDir));
  try {
    await once(socket, 'connect');
  } catch {
    return undefined;
  }
  const request: AdminRequest = {
    argv: [...argv],
    env: Object.fromEntries(
      Object.entries(io.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    ),
    cwd: io.cwd,
    pid: process.pid,
    stderr: {
      isTTY: Boolean(io.stderr.isTTY),
      ...('columns' in io.stderr && typeof io.stderr.columns === 'number' && { columns: io.stderr.columns }),
    },
  };
  socket.setEncoding('utf8');
  socket.write(`${JSON.stringify(request)}\n`);
  let pending = '';
  try {
    for await (const chunk of socket as AsyncIterable<string>) {
      pending += chunk;
      let end = pending.indexOf('\n');
      while (end !== -1) {
        const frame = JSON.parse(pending.slice(0, end)) as Frame;
        pending = pending.slice(end + 1);
        if ('exit' in frame) {
          socket.end();
          return frame.exit;
        }
        if ('stdout' in frame) io.stdout.write(frame.stdout);
        else io.stderr.write(frame.stderr);
        end = pending.indexOf('\n');
      }
    }
  } catch {
    // The connection broke: reported below like a server that ended it.
  }
  throw new DatabaseUnavailableError(
    `the API server${error.pid ? ` (process ${error.pid})` : ''} stopped before the command finished; it may have done part of its work`,
  );
}
