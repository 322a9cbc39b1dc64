import { Command, type CommandUnknownOpts } from '@commander-js/extra-typings';
import type { DomainModule, ModuleCommand } from '@huddle/db';
import { type CliIo, output, withDatabase } from '../context.ts';

/** `githubLogin` → `github-login`: how an input field is spelt as an option or in a usage line. */
function kebabCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/** The raw input of `command`: its positional arguments, then its options, by input field name. */
function rawInput(command: ModuleCommand, invoked: CommandUnknownOpts): Record<string, unknown> {
  const { json: _json, ...options } = invoked.opts();
  const positional = (command.arguments ?? []).map((field, index) => [field.name, invoked.args[index]]);
  return { ...Object.fromEntries(positional), ...options };
}

/** Runs a module command: input parsed before the database opens, then `run` in one transaction as the owner. */
async function runModuleCommand(
  io: CliIo,
  module: DomainModule,
  command: ModuleCommand,
  invoked: CommandUnknownOpts,
): Promise<void> {
  const { inRequestScope, ModuleResources, parseInput } = await import('@huddle/db');
  const input = parseInput(command.input, rawInput(command, invoked));
  const resources = (await ModuleResources.fromEnv([module], io.env)).of(module);
  const result = await withDatabase(
    io,
    (db) => inRequestScope(db.orm, (em) => command.run(em, input, resources)),
    { modules: [module.name] },
  );
  output(io, invoked.opts().json === true, result, () => command.text(result));
}

/** The command a word names under `parent`, created when it is the first command of that group. */
function subcommand(parent: CommandUnknownOpts, word: string): CommandUnknownOpts {
  return parent.commands.find((existing) => existing.name() === word) ?? parent.command(word);
}

/**
 * `huddle <module> …`: the commands a module declares (`DomainModule.commands`), for every composed module
 * that has any. A command `operator add` becomes the group `operator` with its subcommand `add`.
 */
export function moduleCommands(io: CliIo, modules: readonly DomainModule[]): CommandUnknownOpts[] {
  return modules
    .filter((module) => (module.commands ?? []).length > 0)
    .map((module) => {
      const group: CommandUnknownOpts = new Command(module.name).description(
        `${module.name}'s operator commands`,
      );
      for (const command of module.commands ?? []) {
        const words = command.name.split(' ');
        const parent = words.slice(0, -1).reduce(subcommand, group);
        const leaf: CommandUnknownOpts = parent
          .command(words.at(-1) ?? command.name)
          .description(command.description);
        for (const field of command.arguments ?? [])
          leaf.argument(`<${kebabCase(field.name)}>`, field.description);
        for (const option of command.options ?? []) {
          const flag = `--${kebabCase(option.name)}`;
          leaf.option(option.flag ? flag : `${flag} <value>`, option.description);
        }
        leaf.option('--json', 'print the result as JSON').action(function (this: CommandUnknownOpts) {
          return runModuleCommand(io, module, command, this);
        });
      }
      return group;
    });
}
