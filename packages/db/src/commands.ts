import type { EntityManager } from '@mikro-orm/sql';
import type { z } from 'zod';

/** A positional argument or an option of a module command: an input field, named as the input schema names it. */
export interface CommandField {
  /** The input field (camelCase); an option is spelt `--<kebab-case>` on the command line. */
  name: string;
  description: string;
}

/** An option: `--<name> <value>`, or a flag (`--admin`, true when given). */
export interface CommandOption extends CommandField {
  flag?: boolean;
}

/**
 * An operator's command a module declares (`DomainModule.commands`), which the CLI mounts as
 * `huddle <module> <name>`: its arguments and options become the raw input, the input schema parses it (a
 * `field: rule` error changes nothing), and `run` works in one transaction as the owner role, acting for no
 * user. `--json` prints the result; otherwise `text` says it in a line.
 */
export interface ModuleCommand<Resources = unknown> {
  /** The words after `huddle <module>`, kebab-case: `invite`, or `operator add` for a group. */
  name: string;
  description: string;
  arguments?: readonly CommandField[];
  options?: readonly CommandOption[];
  input: z.ZodType;
  // Methods, so a command typed by its own input and result is a ModuleCommand of its module (bivariance,
  // as for operations); `commandsFor` checks `run` and `text` against the schema where it is declared.
  run(em: EntityManager, input: unknown, resources: Resources): Promise<unknown>;
  text(result: unknown): string;
}

/** A module command's declaration: `run` receives the input schema's output, `text` what `run` returned. */
interface CommandSpec<Resources, Input extends z.ZodType, Result> {
  name: string;
  description: string;
  arguments?: readonly CommandField[];
  options?: readonly CommandOption[];
  input: Input;
  run(em: EntityManager, input: z.output<Input>, resources: Resources): Promise<Result>;
  text(result: Result): string;
}

/** The command builder of a module whose resources are `Resources` (as `operationsFor` builds operations). */
export function commandsFor<Resources = undefined>() {
  return {
    command<Input extends z.ZodType, Result>(
      spec: CommandSpec<Resources, Input, Result>,
    ): ModuleCommand<Resources> {
      return spec;
    },
  };
}
