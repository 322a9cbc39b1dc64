import type { NodeSDK } from '@opentelemetry/sdk-node';
import { procedurePaths } from './procedure-paths.ts';
import { withoutValues } from './sql-text.ts';

/**
 * OpenTelemetry traces, off unless the standard `OTEL_*` variables ask for them. This module is loaded
 * by the API's entry point (start.ts) before anything else, and imports nothing of the SDK itself: with
 * tracing off the process never loads it, and nothing on the request path is patched.
 */

/** The modules whose loading the instrumentations hook (`pg` and `pg-pool`, `http`, `pino`). */
const INSTRUMENTED_MODULES = ['pg', 'pg-pool', 'pino', 'http', 'node:http'];

/**
 * Whether the environment asks for traces: an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or an exporter named in `OTEL_TRACES_EXPORTER` other than `none`;
 * never with `OTEL_SDK_DISABLED=true`.
 */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporters) return exporters !== 'none';
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

let running: NodeSDK | undefined;

/**
 * Starts tracing when the environment asks for it (`tracingRequested`); otherwise does nothing. It must
 * run before `pg`, `http` and `pino` are imported: it hooks their loading (import-in-the-middle, for ES
 * modules) so the instrumentations can patch them. What a trace holds:
 * - a span per HTTP request, named by its procedures, with `huddle.procedures` and `huddle.request_id`
 *   (the `x-request-id` the access line carries); a query's `input` parameter is redacted;
 * - a child span per SQL statement (`pg`), its text without values (`withoutValues`; parameters are never
 *   recorded), and per wait for a pool connection;
 * - a child span per outgoing `fetch` (undici: GitHub's token exchange and API calls);
 * - every log line written inside a span carries `trace_id` and `span_id` (pino).
 * The SDK reads the rest of its configuration (`OTEL_EXPORTER_OTLP_*`, `OTEL_SERVICE_NAME`,
 * `OTEL_TRACES_SAMPLER`, `OTEL_BSP_*`, …) itself. Logs and metrics are not exported: logs stay on stderr,
 * metrics are Prometheus's (`/metrics`).
 */
export async function startTracing(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!tracingRequested(env)) return;
  const hooks = await import('import-in-the-middle/register-hooks.mjs');
  if (hooks.supportsSyncHooks()) hooks.register({ include: INSTRUMENTED_MODULES });
  else {
    const { register } = await import('node:module');
    register('import-in-the-middle/hook.mjs', import.meta.url, { data: { include: INSTRUMENTED_MODULES } });
  }
  const [sdk, http, pg, pino, undici] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-pino'),
    import('@opentelemetry/instrumentation-undici'),
  ]);
  running = new sdk.NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME || 'huddle-api',
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new http.HttpInstrumentation({
        // Outgoing calls are fetch's (undici's instrumentation below); node:http's client is the exporter's.
        disableOutgoingRequestInstrumentation: true,
        redactedQueryParamsServer: ['input'],
        requestHook(span, request) {
          if (!('httpVersion' in request)) return;
          const procedures = procedurePaths(request.url);
          span.updateName(`${request.method} ${procedures.join(',')}`);
          span.setAttribute('huddle.procedures', procedures);
        },
        applyCustomAttributesOnSpan(span, _request, response) {
          const requestId = 'getHeader' in response ? response.getHeader('x-request-id') : undefined;
          if (typeof requestId === 'string') span.setAttribute('huddle.request_id', requestId);
        },
      }),
      new pg.PgInstrumentation({
        requestHook(span, { query }) {
          span.setAttribute('db.query.text', withoutValues(query.text));
        },
      }),
      new pino.PinoInstrumentation({ disableLogSending: true }),
      new undici.UndiciInstrumentation(),
    ],
  });
  running.start();
}

/** Exports the spans still buffered and stops tracing; nothing when it is off. Call before the process exits. */
export async function stopTracing(): Promise<void> {
  await running?.shutdown();
  running = undefined;
}
