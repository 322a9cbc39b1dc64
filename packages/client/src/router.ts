/**
 * The API's router types, read from the server's source when this package is type-checked and built:
 * the build inlines them into this package's declarations, so a program that installs the client gets
 * every procedure's input and output types without the server. By path, not as a dependency: the server
 * depends on this package (the read position and the batch limit are the wire contract both sides share).
 */
export type { AppRouter, RouterInputs, RouterOutputs } from '../../../apps/api/src/router.ts';
