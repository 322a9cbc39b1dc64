import { commandsFor } from '@huddle/db';
import type { RepositoryAccess } from './roots.ts';
import {
  addOperatorInputSchema,
  listOperatorsInputSchema,
  type Operator,
  operatorNameInputSchema,
} from './schemas.ts';
import { insertOperator, selectOperators, setOperatorDisabled } from './services/operators.ts';

const { command } = commandsFor<RepositoryAccess>();

const operatorArgument = { name: 'operator', description: 'the operator name (what their tokens name)' };

function operatorLine(operator: Operator): string {
  const state = operator.disabledAt ? 'disabled' : 'enabled';
  return `${operator.name.padEnd(63)} ${operator.isAdmin ? 'admin   ' : 'operator'} ${state}`;
}

/**
 * The operator's commands (`huddle planner operator …`): planner tokens name operators, and only operators
 * that exist and are enabled may act. The CLI adds the first admin.
 */
export const plannerCommands = [
  command({
    name: 'operator add',
    description: 'add an operator (with --admin, one who manages operators): tokens may then name them',
    arguments: [operatorArgument],
    options: [{ name: 'isAdmin', description: 'make them a planner admin', flag: true }],
    input: addOperatorInputSchema,
    run: (em, input) => insertOperator(em, input, null),
    text: (operator) =>
      `added ${operator.isAdmin ? 'admin' : 'operator'} ${operator.name}: huddle token issue --module planner --user ${operator.name}`,
  }),
  command({
    name: 'operator disable',
    description: 'disable an operator: their tokens are refused from their next request',
    arguments: [operatorArgument],
    input: operatorNameInputSchema,
    run: (em, input) => setOperatorDisabled(em, input, true),
    text: (operator) => `disabled ${operator.name}`,
  }),
  command({
    name: 'operator enable',
    description: 'enable a disabled operator again',
    arguments: [operatorArgument],
    input: operatorNameInputSchema,
    run: (em, input) => setOperatorDisabled(em, input, false),
    text: (operator) => `enabled ${operator.name}`,
  }),
  command({
    name: 'operator list',
    description: 'list the operators by name, 50 at a time',
    options: [{ name: 'cursor', description: 'the nextCursor of the previous page' }],
    input: listOperatorsInputSchema,
    run: (em, input) => selectOperators(em, input),
    text: (page) =>
      [
        ...(page.items.length === 0 ? ['no operators'] : page.items.map(operatorLine)),
        ...(page.nextCursor ? [`more: --cursor ${page.nextCursor}`] : []),
      ].join('\n'),
  }),
];
