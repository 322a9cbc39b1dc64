import { Command, CommanderError, type CommandUnknownOpts } from '@commander-js/extra-typings';
import packageJson from '../package.json' with { type: 'json' };
import { backupCommand, restoreCommand } from './commands/backup.ts';
import { jobsCommand } from './commands/jobs.ts';
import { keysCommand } from './commands/keys.ts';
import { maintenanceCommand } from './commands/maintenance.ts';
import { migrateCommand } from './commands/migrate.ts';
import { moduleCommands } from './commands/modules.ts';
import { schemaCommand } from './commands/schema.ts';
import { seedCommand } from './commands/seed.ts';
import { serveCommand } from './commands/serve.ts';
import { tokenCommand } from './commands/token.ts';
import type { CliIo } from './context.ts';

/** `huddle: <first line>` — commander's usage errors arrive as `error: …`, sometimes with a hint line. */
function errorLine(message: string): string {
  return `huddle: ${message
    .replace(/^error: /, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join(' ')}\n`;
}

/**
 * The program: command definitions only. Each action imports what it needs when it runs, so `--help`,
 * `--version` and usage errors load neither the data layer nor MikroORM.
 */
function huddleProgram(io: CliIo) {
  const program = new Command('huddle')
    .description(
      "Huddle admin CLI. The database is DATABASE_URL, or the embedded one in HUDDLE_DATA_DIR ($XDG_DATA_HOME/huddle). Each module's own commands: huddle <module> --help (e.g. huddle scrum --help).",
    )
    .version(packageJson.version)
    .addCommand(migrateCommand(io))
    .addCommand(seedCommand(io))
    .addCommand(backupCommand(io))
    .addCommand(restoreCommand(io))
    .addCommand(schemaCommand(io))
    .addCommand(maintenanceCommand(io))
    .addCommand(jobsCommand(io))
    .addCommand(tokenCommand(io))
    .addCommand(keysCommand(io))
    .addCommand(serveCommand(runCli));
  return program;
}

/** Commander's settings for `command` and everything under it: added subcommands inherit none. */
function configure(io: CliIo, command: CommandUnknownOpts, path: string): void {
  const names = command.commands.map((subcommand) => subcommand.name()).join(', ');
  const where = path === 'huddle' ? '' : `${path.replace(/^huddle /, '')}: `;
  command.exitOverride().configureOutput({
    writeOut: (text) => io.stdout.write(text),
    // With errors going through outputError, commander writes to stderr only the help it shows when a
    // command group is called without its subcommand: one line instead of that page.
    writeErr: () => io.stderr.write(`huddle: ${where}missing command (${names}); see ${path} --help\n`),
    outputError: (text) => io.stderr.write(errorLine(text)),
  });
  for (const subcommand of command.commands) configure(io, subcommand, `${path} ${subcommand.name()}`);
}

/**
 * `huddle <module> …`'s commands, only when the first word names none of the CLI's own commands: they load
 * the composed modules, which `--help`, `--version`, a usage error and the CLI's own commands never do.
 */
async function modulesCommandsFor(
  argv: readonly string[],
  io: CliIo,
  builtIn: readonly CommandUnknownOpts[],
): Promise<CommandUnknownOpts[]> {
  const first = argv[0];
  if (first === undefined || first.startsWith('-') || first === 'help') return [];
  if (builtIn.some((command) => command.name() === first)) return [];
  const { domainModules } = await import('@huddle/composition');
  return moduleCommands(io, domainModules);
}

/**
 * Runs `huddle <argv>` (arguments after the program name) and resolves to its exit code; never exits the
 * process, so tests run commands in-process exactly as the binary does. Every failure ends as one line
 * on stderr: usage errors as commander words them, everything else as its error's first line. A command
 * that finds the embedded database held by a running server is handed to that server (`admin-socket.ts`),
 * which runs it here too, with the same output and exit code.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = huddleProgram(io);
  for (const command of await modulesCommandsFor(argv, io, program.commands)) program.addCommand(command);
  configure(io, program, 'huddle');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    // Help or version as asked, or a usage error commander has already written as one line.
    if (error instanceof CommanderError) return error.exitCode;
    // Only an action fails past usage errors, and actions load the data layer: this import costs little.
    const { handToServer } = await import('./admin-socket.ts');
    const handedOverCode = await handToServer(error, argv, io);
    if (handedOverCode !== undefined) return handedOverCode;
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`huddle: ${message.split('\n')[0]}\n`);
    return 1;
  }
}
