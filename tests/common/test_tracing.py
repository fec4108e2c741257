"""The tracing helpers on their own: the contract's traceparent, links, and the sampler
that keeps a failing detection's spans whatever the sampling ratio."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased

from backend.common import tracing
from backend.contracts.events import DetectionCompletedEvent

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_tracing_is_off_unless_an_endpoint_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    assert not tracing.enabled_by_environment()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    assert tracing.enabled_by_environment()
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not tracing.enabled_by_environment()


def test_the_contract_carries_a_valid_traceparent_and_drops_a_bad_one() -> None:
    fields = {"event_id": "3f0c1f3e-1111-4222-8333-444455556666", "detection_id": 1}
    fields["occurred_at"] = "2026-11-24T01:00:00+00:00"
    assert DetectionCompletedEvent(**fields, traceparent=TRACEPARENT).traceparent == TRACEPARENT
    for bad in ("junk", "00-" + "0" * 32 + "-b7ad6b7169203331-01", TRACEPARENT.upper(), 42):
        assert DetectionCompletedEvent(**fields, traceparent=bad).traceparent is None  # never a refusal
    # An untraced event leaves the field out: a backend from before tracing still takes it.
    assert "traceparent" not in DetectionCompletedEvent(**fields).to_json()
    assert tracing.trace_id_of(TRACEPARENT) == "0af7651916cd43dd8448eb211c80319c"
    assert tracing.trace_id_of(None) is None


def test_the_sampled_flag_says_whether_a_trace_was_kept() -> None:
    assert tracing.is_sampled(TRACEPARENT)
    assert not tracing.is_sampled(TRACEPARENT.removesuffix("01") + "00")
    assert not tracing.is_sampled(None) and not tracing.is_sampled("junk") and not tracing.is_sampled("a-b-c-zz")


def test_a_redispatch_links_to_the_original_span() -> None:
    [link] = tracing.links_to(TRACEPARENT)
    assert f"{link.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"
    assert f"{link.context.span_id:016x}" == "b7ad6b7169203331"
    assert tracing.links_to(None) == [] and tracing.links_to("junk") == []


def test_decisive_spans_are_kept_even_when_the_trace_is_not_sampled() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=tracing.KeepDecisiveSpans(ParentBased(ALWAYS_OFF)))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("ingest detections/new"):
        with tracer.start_as_current_span("ocr read"):
            pass
        with (
            tracer.start_as_current_span("detection failed", attributes={tracing.KEEP_ATTRIBUTE: True}),
            tracer.start_as_current_span("its child"),
        ):
            pass
    kept = {span.name: span for span in exporter.get_finished_spans()}
    assert set(kept) == {"detection failed", "its child"}
    assert kept["its child"].parent.span_id == kept["detection failed"].context.span_id
    assert "KeepDecisiveSpans" in provider.sampler.get_description()
