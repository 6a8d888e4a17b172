import { propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * W3C trace context through the OpenTelemetry API. Without an SDK registered (the default), the
 * sub-tasks carry the incoming `traceparent` as it came; with one (e.g. `NODE_OPTIONS="--import
 * ./otel.js"` registering a NodeSDK and an exporter), each dispatch is a span of its own, child of
 * the request's, and exported.
 */
propagation.setGlobalPropagator(new W3CTraceContextPropagator());

const tracer = trace.getTracer('orchestrator_agent');
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The request's `traceparent` when it is a valid W3C one, else null. */
export function acceptTraceparent(value: string | undefined): string | null {
  if (value === undefined || !TRACEPARENT.test(value)) return null;
  const spanContext = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent: value }));
  return spanContext && trace.isSpanContextValid(spanContext) ? value : null;
}

/** The `traceparent` for a message sent on behalf of the traced request (a span around it when an SDK records). */
export function childTraceparent(parent: string | null, name: string): string | null {
  if (parent === null) return null;
  const parentContext = propagation.extract(ROOT_CONTEXT, { traceparent: parent });
  const span = tracer.startSpan(name, { kind: SpanKind.PRODUCER }, parentContext);
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(parentContext, span), carrier);
  span.end();
  return carrier['traceparent'] ?? parent;
}
