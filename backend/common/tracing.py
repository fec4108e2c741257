"""One OpenTelemetry trace per detection, edge to phone.

Off unless an OTLP endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT` or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) and `OTEL_SDK_DISABLED` is not true. When on, each
process exports its spans over OTLP/HTTP, set up by the standard `OTEL_*` variables:
endpoint, headers, service name, sampler (`OTEL_TRACES_SAMPLER`, e.g.
`parentbased_traceidratio` with `OTEL_TRACES_SAMPLER_ARG=0.1`). Whatever the sampler
says, the spans that record a detection failing, being held for review or dead-lettered
are kept (`keep=True`).

The context crosses MQTT in the event contract's optional `traceparent` (W3C), and Celery
in its task headers (the Celery instrumentation). Django-free: the edge uses it too.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, Span

logger = logging.getLogger(__name__)
TRACER_NAME = "speedcam"
# A span attribute that makes the sampler keep the span (and so its children).
KEEP_ATTRIBUTE = "speedcam.keep"
INSTRUMENTATIONS = ("django", "celery", "pymysql", "requests", "logging")
# What a backend worker or subscriber traces: its tasks, its queries, its HTTP calls (GCS,
# FCM) and its log lines.
WORKER_INSTRUMENTATIONS = ("celery", "pymysql", "requests", "logging")
_configured_in: int | None = None


def enabled_by_environment() -> bool:
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def configure_tracing(service_name: str, *, instrument: Iterable[str] = ()) -> bool:
    """Set up this process's tracer provider and exporter, and turn on the named
    instrumentations (of INSTRUMENTATIONS). Once per process; True when tracing is on."""
    global _configured_in
    if _configured_in == os.getpid():
        return True
    if not enabled_by_environment():
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import _get_from_env_or_default

    unknown = set(instrument) - set(INSTRUMENTATIONS)
    if unknown:
        raise ValueError(f"unknown instrumentations: {sorted(unknown)}")
    # OTEL_SERVICE_NAME, when set, names the service instead.
    resource = Resource.create({} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service_name})
    provider = TracerProvider(resource=resource, sampler=KeepDecisiveSpans(_get_from_env_or_default()))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    for name in instrument:
        _instrument(name)
    _configured_in = os.getpid()
    logger.info("tracing on", extra={"service": service_name, "instrumentations": sorted(instrument)})
    return True


def _instrument(name: str) -> None:
    if name == "django":
        from opentelemetry.instrumentation.django import DjangoInstrumentor

        DjangoInstrumentor().instrument()
    elif name == "celery":
        from opentelemetry.instrumentation.celery import CeleryInstrumentor

        CeleryInstrumentor().instrument()
    elif name == "pymysql":
        from opentelemetry.instrumentation.pymysql import PyMySQLInstrumentor

        PyMySQLInstrumentor().instrument()
    elif name == "requests":
        from opentelemetry.instrumentation.requests import RequestsInstrumentor

        RequestsInstrumentor().instrument()
    elif name == "logging":
        from opentelemetry.instrumentation.logging import LoggingInstrumentor

        # Puts otelTraceID/otelSpanID on every record; the JSON formatter names them
        # trace_id/span_id (settings.LOGGING). The logs themselves stay on stderr, where
        # Alloy collects them for Loki (deploy/alloy): no OpenTelemetry log handler.
        LoggingInstrumentor().instrument(
            set_logging_format=False, inject_trace_context=True, enable_log_auto_instrumentation=False
        )


def flush(timeout_ms: int = 5000) -> None:
    """Export what is buffered now: before a short-lived process exits."""
    provider = trace.get_tracer_provider()
    if hasattr(provider, "force_flush"):
        provider.force_flush(timeout_ms)


class KeepDecisiveSpans(Sampler):
    """The configured sampler, except that a span started with KEEP_ATTRIBUTE is always
    recorded: a detection that fails, waits for a person or is dead-lettered is traced
    even when its trace was not sampled."""

    def __init__(self, delegate: Any) -> None:
        self.delegate = delegate

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: Any = None,
        attributes: Mapping[str, Any] | None = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        if attributes and attributes.get(KEEP_ATTRIBUTE):
            parent = trace.get_current_span(parent_context).get_span_context()
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, parent.trace_state if parent else None)
        return self.delegate.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"KeepDecisiveSpans{{{self.delegate.get_description()}}}"


# A proxy until configure_tracing sets the provider, then the real tracer: made once, not
# per span (get_tracer builds a new scope object on every call).
_TRACER = trace.get_tracer(TRACER_NAME)


def tracer() -> trace.Tracer:
    return _TRACER


def current_traceparent() -> str | None:
    """The W3C traceparent of the current span, to carry in an event; None outside any."""
    return _traceparent(None)


def traceparent_of(span: Span) -> str | None:
    """The W3C traceparent naming `span`; None when it is not recorded or tracing is off."""
    return _traceparent(trace.set_span_in_context(span))


def _traceparent(context: Context | None) -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    return carrier.get("traceparent")


def context_of(traceparent: str | None) -> Context | None:
    return propagate.extract({"traceparent": traceparent}) if traceparent else None


def links_to(traceparent: str | None) -> list[Link]:
    """A link to the span a traceparent names: a re-dispatch points at the original trace."""
    if not traceparent:
        return []
    linked = trace.get_current_span(context_of(traceparent)).get_span_context()
    return [Link(linked)] if linked.is_valid else []


def trace_id_of(traceparent: str | None) -> str | None:
    return traceparent.split("-")[1] if traceparent and traceparent.count("-") == 3 else None


def is_sampled(traceparent: str | None) -> bool:
    """Whether the sampler kept the trace a traceparent names (its flags' sampled bit). A
    trace sampled out still holds the spans marked keep: a failure, review or dead letter."""
    return trace.get_current_span(context_of(traceparent)).get_span_context().trace_flags.sampled


@contextmanager
def span(
    name: str,
    *,
    parent: str | None = None,
    links: Sequence[Link] = (),
    keep: bool = False,
    **attributes: Any,
) -> Iterator[Span]:
    """A span, current inside the block: a child of `parent` (a traceparent from an event)
    when given, else of the current span. Attributes that are None are left out; each
    name gets the `speedcam.` prefix."""
    values = _attributes(attributes, keep=keep)
    with tracer().start_as_current_span(name, context=context_of(parent), links=links, attributes=values) as current:
        yield current


def start_span(name: str, *, parent: str | None = None, **attributes: Any) -> Span:
    """A span that is not made current, for one of several items a batch handles at once:
    the caller carries it on with `attached(traceparent_of(span))` and ends it."""
    return tracer().start_span(name, context=context_of(parent), attributes=_attributes(attributes))


def _attributes(attributes: Mapping[str, Any], *, keep: bool = False) -> dict[str, Any]:
    """Those that are not None, each name with the `speedcam.` prefix; the keep mark."""
    values = {f"speedcam.{key}": value for key, value in attributes.items() if value is not None}
    if keep:
        values[KEEP_ATTRIBUTE] = True
    return values


@contextmanager
def attached(traceparent: str | None) -> Iterator[None]:
    """The span a traceparent names is current inside the block (nothing changes for None):
    what is published there carries it on."""
    named = context_of(traceparent)
    if named is None:
        yield
        return
    token = otel_context.attach(named)
    try:
        yield
    finally:
        otel_context.detach(token)


def record(name: str, **attributes: Any) -> None:
    """A kept span marking an outcome that must always be traceable (failed, review,
    dead-lettered), as a child of the current span."""
    with span(name, keep=True, **attributes):
        pass
