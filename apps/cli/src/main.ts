#!/usr/bin/env node
import { Command, CommanderError, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { backupCommand, restoreCommand } from './commands/backup.ts';
import { maintenanceCommand } from './commands/maintenance.ts';
import { migrateCommand } from './commands/migrate.ts';
import { schemaCommand } from './commands/schema.ts';
import { seedCommand } from './commands/seed.ts';
import { tokenCommand } from './commands/token.ts';

const program = new Command('huddle')
  .description(
    'Huddle admin CLI. The database is DATABASE_URL, or the embedded one in HUDDLE_DATA_DIR (.huddle/data).',
  )
  .exitOverride()
  .showHelpAfterError('(run with --help for usage)')
  .addCommand(migrateCommand)
  .addCommand(seedCommand)
  .addCommand(backupCommand)
  .addCommand(restoreCommand)
  .addCommand(schemaCommand)
  .addCommand(maintenanceCommand)
  .addCommand(tokenCommand);

// Subcommands built on their own don't inherit the override; without it commander exits by itself.
const overrideExits = (command: CommandUnknownOpts) => {
  command.exitOverride();
  for (const subcommand of command.commands) overrideExits(subcommand);
};
overrideExits(program);

/** Every failure ends as one line on stderr and a non-zero exit. */
program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // Commander has already printed its own message (usage errors) or the help/version text.
    process.exit(error.exitCode);
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`huddle: ${message.split('\n')[0]}\n`);
  process.exit(1);
});
