"""`/metrics` for Prometheus: read from the database at scrape time, so every process agrees.

Counters kept in a process's memory would differ between the web, engine and bridge
processes and restart at zero; the database already holds the truth, so each scrape asks it.
"""

from __future__ import annotations

import hmac
import math
from datetime import datetime, timedelta

from flask import Blueprint, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts import kpi
from telecare import beats
from telecare.models import (
    Alarm,
    AlarmKind,
    AlarmState,
    ButtonCheck,
    CallAttempt,
    CallOutcome,
    CallResult,
    CampaignDelivery,
    DeliveryState,
    Device,
    DeviceEvent,
    DeviceState,
    PlannedCall,
    PlannedCallState,
    ServiceBeat,
    Severity,
)
from web.access import public
from web.db import db, now, runtime

bp = Blueprint("metrics", __name__)

BUCKETS = (10, 30, 60, 120, 180, 300, 600)
WINDOW = timedelta(hours=24)


class TelecareCollector(Collector):
    def __init__(self, session: Session, at: datetime):
        self.session, self.at = session, at

    def collect(self):
        yield from (self._open_alarms(), *self._answer_times(), self._devices_offline(),
                    self._deliveries(), self._calls(), *self._planned_calls(),
                    self._device_events(), *self._service())

    def _open_alarms(self):
        family = GaugeMetricFamily("telecare_alarms_open",
                                   "Alarms nobody has taken charge of yet",
                                   labels=["kind", "severity"])
        found = dict(((k, s), n) for k, s, n in self.session.execute(
            select(Alarm.kind, Alarm.severity, func.count())
            .where(Alarm.state == AlarmState.OPEN).group_by(Alarm.kind, Alarm.severity)))
        # Every pair, zeros too: a series that vanishes cannot be alerted on.
        for kind in AlarmKind:
            for severity in Severity:
                family.add_metric([kind.value, severity.value], found.get((kind, severity), 0))
        return family

    def _answer_times(self):
        figures, times = kpi.window(self.session, self.at - WINDOW, self.at)
        histogram = HistogramMetricFamily(
            "telecare_alarm_acknowledge_seconds",
            "Time to take charge of the alarm calls opened in the last 24 h (a sliding "
            "window: read the buckets as they are, not through rate())",
            buckets=[(str(b), sum(1 for t in times if t <= b)) for b in BUCKETS]
            + [("+Inf", len(times))], sum_value=sum(times))
        shares = []
        for within, share in ((60, figures.share_60), (180, figures.share_180)):
            shares.append(GaugeMetricFamily(
                f"telecare_alarms_acknowledged_within_{within}s_ratio",
                f"Share of the last 24 h's alarm calls taken charge of within {within} s "
                "(unacknowledged ones count as not within; NaN without alarms)",
                value=math.nan if share is None else share))
        opened = GaugeMetricFamily("telecare_alarm_calls_last_24h",
                                   "Alarm calls opened in the last 24 h", value=figures.count)
        return histogram, *shares, opened

    def _devices_offline(self):
        count = self.session.scalar(select(func.count()).select_from(Device).where(
            Device.state == DeviceState.ACTIVE, Device.offline_since.is_not(None)))
        return GaugeMetricFamily("telecare_devices_offline",
                                 "Devices in use that have stopped sending heartbeats",
                                 value=count)

    def _deliveries(self):
        family = GaugeMetricFamily("telecare_campaign_deliveries",
                                   "Warning deliveries by state", labels=["state"])
        found = dict(self.session.execute(select(CampaignDelivery.state, func.count())
                                          .group_by(CampaignDelivery.state)).all())
        for state in DeliveryState:
            family.add_metric([state.value], found.get(state, 0))
        return family

    def _calls(self):
        family = GaugeMetricFamily("telecare_calls",
                                   "Calls placed in the last 24 h by outcome (pending: not "
                                   "ended yet)", labels=["outcome"])
        found = dict(self.session.execute(
            select(CallAttempt.outcome, func.count())
            .where(CallAttempt.created_at >= self.at - WINDOW)
            .group_by(CallAttempt.outcome)).all())
        for outcome in CallOutcome:
            family.add_metric([outcome.value], found.get(outcome, 0))
        family.add_metric(["pending"], found.get(None, 0))
        return family


    def _planned_calls(self):
        results = GaugeMetricFamily(
            "telecare_planned_calls_finished",
            "Planned calls (weekly, reassurance, birthday) finished in the last 24 h by result",
            labels=["kind", "result"])
        found = dict(((k, r), n) for k, r, n in self.session.execute(
            select(PlannedCall.kind, PlannedCall.result, func.count())
            .where(PlannedCall.completed_at >= self.at - WINDOW)
            .group_by(PlannedCall.kind, PlannedCall.result)))
        for (kind, result), count in sorted(found.items()):
            results.add_metric([kind.value, result.value if result else "none"], count)
        for result in (CallResult.WELL, CallResult.NO_ANSWER):  # the two always there
            if not any(r == result for _, r in found):
                results.add_metric(["courtesy", result.value], 0)
        # A call due and not started is late: the sweep is stalled or capacity is short.
        overdue = self.session.scalar(select(func.count()).select_from(PlannedCall).where(
            PlannedCall.state == PlannedCallState.PLANNED,
            PlannedCall.next_attempt_at < self.at - timedelta(minutes=15)))
        flagged = self.session.scalar(select(func.count()).select_from(PlannedCall).where(
            PlannedCall.button_check == ButtonCheck.FLAGGED,
            PlannedCall.completed_at >= self.at - timedelta(days=7)))
        return (results,
                GaugeMetricFamily("telecare_planned_calls_overdue",
                                  "Planned calls due more than 15 minutes ago and not yet "
                                  "made (at night they wait for the morning)", value=overdue),
                GaugeMetricFamily("telecare_device_checks_flagged",
                                  "Alarm buttons whose test during the weekly call did not "
                                  "arrive, in the last 7 days", value=flagged))


    def _device_events(self):
        family = GaugeMetricFamily(
            "telecare_mqtt_messages",
            "Device events (MQTT QoS 1: alarm, fall, test, battery, power, and the online and "
            "offline transitions) received in the last 24 h, by type. Heartbeats are not stored "
            "one by one and are not counted here: see telecare_bridge_received_total",
            labels=["type"])
        found = dict(self.session.execute(
            select(DeviceEvent.type, func.count())
            .where(DeviceEvent.received_at >= self.at - WINDOW)
            .group_by(DeviceEvent.type)).all())
        for kind in sorted(set(found) | {"alarm", "fall", "test", "battery", "power"}):
            family.add_metric([kind], found.get(kind, 0))
        return family

    def _service(self):
        """The service's own parts, from their beats (telecare.beats): any process can tell."""
        ages = GaugeMetricFamily(
            "telecare_service_beat_age_seconds",
            "Seconds since each part of the service (bridge, scheduler.escalation, "
            "scheduler.planned_calls, scheduler.campaigns) last beat, whichever process: "
            "above service.stale_after_s it is stale (and a service_stalled alarm opens)",
            labels=["component"])
        instances = GaugeMetricFamily(
            "telecare_service_instances",
            "Processes running each part that beat within service.stale_after_s",
            labels=["component"])
        stale_after = timedelta(seconds=runtime().settings.service.stale_after_s)
        for name, reading in sorted(beats.latest(self.session, self.at, stale_after).items()):
            ages.add_metric([name], reading.age_s(self.at))
            instances.add_metric([name], reading.instances)
        # What each bridge process has received since it started, from its latest beat: a
        # counter per process (it starts again at 0 when the process does; rate() knows).
        received = CounterMetricFamily(
            "telecare_bridge_received",
            "MQTT messages received by each bridge process since it started, by kind "
            "(heartbeat, event, status, refused), as of its latest beat",
            labels=["instance", "kind"])
        for row in self.session.scalars(select(ServiceBeat).where(
                ServiceBeat.component == beats.BRIDGE,
                ServiceBeat.last_beat_at >= self.at - stale_after)):
            detail = row.detail or {}
            for kind, key in (("heartbeat", "heartbeats"), ("event", "events"),
                              ("status", "status"), ("refused", "refused")):
                received.add_metric([row.instance, kind], detail.get(key, 0))
        return ages, instances, received


@bp.get("/metrics")
@public  # Prometheus has no session; web.metrics_token, when set, closes it to others
def metrics():
    token = runtime().settings.web.metrics_token
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                                 token.encode()):
            return Response("a valid bearer token is required\n", 401, mimetype="text/plain",
                            headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    registry = CollectorRegistry(auto_describe=False)
    registry.register(TelecareCollector(db(), now()))
    return Response(generate_latest(registry), 200, content_type=CONTENT_TYPE_LATEST)
