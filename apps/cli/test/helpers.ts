import { execFile } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { runCli } from '../src/cli.ts';

const run = promisify(execFile);
export const MAIN = path.resolve(import.meta.dirname, '../src/main.ts');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A stream that keeps what is written to it. */
function capture(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

/**
 * Runs `huddle <args>` in this process through the function the binary runs (`runCli`), with `env` over
 * this process's environment: the same parsing, commands, output and exit code, without a Node start.
 */
export async function huddle(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const stdout = capture();
  const stderr = capture();
  const code = await runCli(args, {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env: { ...process.env, ...env },
    cwd: process.cwd(),
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/**
 * Runs `huddle <args>` as a real process, the way an operator does: for what only a process shows. It runs
 * in `cwd`, this process's working directory unless given.
 */
export async function huddleProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN, ...args], {
      env: { ...process.env, ...env },
      cwd,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
