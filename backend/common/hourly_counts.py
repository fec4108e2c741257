"""Counts per hour that the statistics read instead of scanning a large table.

A table's rows are counted per UTC hour (of a time field) along a few facets, each a
GROUP BY whose rows number hours x keys however many rows there are. A periodic refresh
recounts only the hours in which a row was created or changed (`updated_at`) since the
last refresh. Readers take the stored counts, except for the hours changed since, which
they recount live: the figures are exact whether or not the refresh ran lately.

Rows must never be deleted (a deletion changes no `updated_at`) and every change must
stamp `updated_at`, including queryset `.update()` calls.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from django.db import models, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# A change is looked for this long before the last refresh began: a transaction that
# stamped updated_at earlier but committed after the refresh read the table.
CHANGE_SLACK = timedelta(minutes=2)


class AbstractHourlyCount(models.Model):
    hour = models.DateTimeField(verbose_name=_("hour"))
    facet = models.CharField(verbose_name=_("facet"), max_length=8)
    key = models.CharField(verbose_name=_("key"), max_length=50)
    count = models.PositiveIntegerField(verbose_name=_("count"))

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.facet}={self.key}: {self.count}"


class AbstractHourlyCountsState(models.Model):
    """One row: rows changed at or after `changes_since` are not in the counts yet."""

    changes_since = models.DateTimeField(verbose_name=_("changes since"), null=True, blank=True)
    refreshed_at = models.DateTimeField(verbose_name=_("refreshed at"), null=True, blank=True)

    class Meta:
        abstract = True


class HourCount(NamedTuple):
    hour: datetime  # UTC, on the hour
    facet: str
    key: str
    count: int


@dataclass(frozen=True)
class Sums:
    per_key: Counter[tuple[str, str]]  # (facet, key) -> rows
    per_hour: Counter[datetime]

    @classmethod
    def of(cls, counts: Iterable[HourCount], hour_facet: str) -> Sums:
        sums = cls(Counter(), Counter())
        for hour, facet, key, count in counts:
            sums.per_key[facet, key] += count
            if facet == hour_facet:
                sums.per_hour[hour] += count
        return sums

    def of_facet(self, facet: str) -> Counter[str]:
        return Counter({key: count for (name, key), count in self.per_key.items() if name == facet})


@dataclass(frozen=True)
class Facet:
    name: str
    # Annotations grouped by (besides the hour), and the key a grouped row counts under.
    group_by: Mapping[str, Any]
    key: Callable[[dict], str]


def _hour_floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class HourlyCounts:
    source: type[models.Model]
    time_field: str
    facets: tuple[Facet, ...]
    counts: type[AbstractHourlyCount]
    state: type[AbstractHourlyCountsState]
    database: str

    @property
    def facet_names(self) -> tuple[str, ...]:
        return tuple(facet.name for facet in self.facets)

    def count(self, rows: QuerySet, facets: Iterable[str] | None = None) -> list[HourCount]:
        """Counts `rows` per hour along the facets named (every facet by default)."""
        wanted = set(facets or self.facet_names)
        by_hour = rows.order_by().annotate(hour=TruncHour(self.time_field, tzinfo=UTC))
        counted: list[HourCount] = []
        for facet in self.facets:
            if facet.name not in wanted:
                continue
            grouped = by_hour.annotate(
                **{name: value for name, value in facet.group_by.items() if not isinstance(value, str)}
            )
            fields = [value if isinstance(value, str) else name for name, value in facet.group_by.items()]
            for row in grouped.values("hour", *fields).annotate(n=Count("pk")):
                counted.append(HourCount(row["hour"], facet.name, facet.key(row), row["n"]))
        return counted

    def changed_hours(self, since: datetime) -> set[datetime]:
        """The hours holding a row created or changed at or after `since`."""
        return set(
            self.source.objects.filter(updated_at__gte=since)
            .order_by()
            .annotate(hour=TruncHour(self.time_field, tzinfo=UTC))
            .values_list("hour", flat=True)
            .distinct()
        )

    def in_hours(self, hours: Iterable[datetime]) -> Q:
        """Rows within any of these hours: one range per run of consecutive hours."""
        ranges = Q(pk__in=[])
        run_start = run_end = None
        for hour in sorted(hours):
            if run_end != hour:
                if run_start is not None:
                    ranges |= self._between(run_start, run_end)
                run_start = hour
            run_end = hour + timedelta(hours=1)
        if run_start is not None:
            ranges |= self._between(run_start, run_end)
        return ranges

    def _between(self, start: datetime, end: datetime) -> Q:
        return Q(**{f"{self.time_field}__gte": start, f"{self.time_field}__lt": end})

    def sums(
        self, start: datetime | None = None, end: datetime | None = None, facets: Iterable[str] | None = None
    ) -> Sums:
        """The counts of the whole hours that [start, end) touches (all time where a bound
        is None), summed per (facet, key) and per hour (along the first facet asked for:
        each row counts once in every facet). Everything is recounted live when the counts
        were never refreshed."""
        wanted = tuple(facets or self.facet_names)
        first_hour = _hour_floor(start) if start else None
        last_hour = _hour_floor(end - timedelta(microseconds=1)) if end else None
        window = self.source.objects.all()
        stored = self.counts.objects.filter(facet__in=wanted)
        if first_hour:
            window = window.filter(**{f"{self.time_field}__gte": first_hour})
            stored = stored.filter(hour__gte=first_hour)
        if last_hour:
            window = window.filter(**{f"{self.time_field}__lt": last_hour + timedelta(hours=1)})
            stored = stored.filter(hour__lte=last_hour)
        state = self.state.objects.filter(changes_since__isnull=False).first()
        if state is None:
            return Sums.of(self.count(window, wanted), wanted[0])
        changed = {
            hour
            for hour in self.changed_hours(state.changes_since - CHANGE_SLACK)
            if (first_hour is None or hour >= first_hour) and (last_hour is None or hour <= last_hour)
        }
        sums = Sums.of(self.count(window.filter(self.in_hours(changed)), wanted) if changed else [], wanted[0])
        stored = stored.exclude(hour__in=changed).order_by()
        for row in stored.values("facet", "key").annotate(n=Sum("count")):
            sums.per_key[row["facet"], row["key"]] += row["n"]
        for row in stored.filter(facet=wanted[0]).values("hour").annotate(n=Sum("count")):
            sums.per_hour[row["hour"]] += row["n"]
        return sums

    def refresh(self) -> int:
        """Recount the hours changed since the last refresh (all of them, the first time).
        Returns how many hours hold rows. Concurrent refreshes wait on the state row."""
        scan_started = timezone.now()
        with transaction.atomic(using=self.database):
            state, _ = self.state.objects.select_for_update().get_or_create(pk=1)
            if state.changes_since is None:
                stale = self.counts.objects.all()
                counted = self.count(self.source.objects.all())
            else:
                hours = self.changed_hours(state.changes_since - CHANGE_SLACK)
                stale = self.counts.objects.filter(hour__in=hours)
                counted = self.count(self.source.objects.filter(self.in_hours(hours))) if hours else []
            stale.delete()
            self.counts.objects.bulk_create([self.counts(**row._asdict()) for row in counted], batch_size=2000)
            state.changes_since = scan_started
            state.refreshed_at = timezone.now()
            state.save()
        return len({row.hour for row in counted})
