import { startTracing } from './tracing.ts';

// The API process's entry point (`pnpm start`, `huddle serve`). Tracing starts first, when the OTEL_*
// variables ask for it: its instrumentations hook the loading of pg, http and pino, so they must be in
// place before anything imports those — hence the API (main.ts) is imported only afterwards. With tracing
// off this costs one environment check.
await startTracing();
await import('./main.ts');
