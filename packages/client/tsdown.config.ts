import { defineConfig } from 'tsdown';
import huddlePackage from '../../tsdown.config.ts';

/**
 * The server's packages, which the client's declarations reach only through the API's context type (what
 * every procedure sees on the server: the database, the logger, the caller's token). A program never sees
 * that context, so those names become `unknown` in the bundled declarations; any other name from these
 * packages fails the build, because a procedure's input or output must inline its types, never import them.
 */
const SERVER_MODULES = /^(@huddle\/(?!client)[\w-]+|pino)$/;
const SERVER_CONTEXT_TYPES = new Set([
  'BearerClaims',
  'Database',
  'Logger',
  'ModuleResources',
  'SessionPolicy',
  'UnauthorizedError',
]);

export default defineConfig({
  ...huddlePackage,
  deps: { neverBundle: [SERVER_MODULES] },
  plugins: [
    {
      name: 'opaque-server-context',
      renderChunk(code, chunk) {
        if (!chunk.fileName.endsWith('.d.ts')) return null;
        return code.replace(
          /^import \{([^}]*)\} from "([^"]+)";\n/gm,
          (statement, names: string, source: string) => {
            if (!SERVER_MODULES.test(source)) return statement;
            return names
              .split(',')
              .map((name) => name.trim())
              .filter((name) => name.length > 0)
              .map((name) => {
                const [imported, local = imported] = name.split(/\s+as\s+/) as [string, string?];
                if (!SERVER_CONTEXT_TYPES.has(imported)) {
                  throw new Error(`the client's declarations import ${imported} from ${source}: inline it`);
                }
                return `/** The server's ${imported}: opaque to programs. */\ntype ${local} = unknown;\n`;
              })
              .join('');
          },
        );
      },
    },
  ],
});
