import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { defineConfig } from 'tsdown';

/**
 * How every package and app builds for its tarball (`pnpm pack` swaps in `publishConfig`'s `exports` and
 * `bin`, which point at `dist/`): each runs `tsdown --config ../../tsdown.config.ts` in its own folder (the
 * client extends this in its own config). In the workspace, `exports` and `bin` point at the sources, so tests
 * and `pnpm start` need no build.
 */
const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as {
  exports?: Record<string, string>;
  bin?: Record<string, string>;
};

/** One entry per export and binary: `./src/schemas.ts` builds to `dist/schemas.js` (+ `dist/schemas.d.ts`). */
const entry = Object.fromEntries(
  [...Object.values(manifest.exports ?? {}), ...Object.values(manifest.bin ?? {})].map((source) => [
    basename(source, extname(source)),
    source,
  ]),
);

export default defineConfig({
  cwd: process.cwd(),
  entry,
  format: 'esm',
  platform: 'node',
  target: 'node22.17',
  fixedExtension: false,
  // Declarations for what can be imported; a package with a binary only (the CLI) has none to declare.
  dts: manifest.exports !== undefined,
  clean: true,
});
