"""The core model. Importing this package registers every table on `Base.metadata`."""

from telecare.models.alarm import (
    Alarm,
    AlarmEvent,
    AlarmKind,
    AlarmNotification,
    AlarmState,
    EscalationPolicy,
    NotificationState,
    Outcome,
    Severity,
)
from telecare.models.audit import AuditEntry
from telecare.models.base import Base
from telecare.models.campaign import (
    Campaign,
    CampaignDelivery,
    CampaignKind,
    CampaignState,
    CapMessage,
    CapState,
    DeliveryState,
    HeatForecast,
    NewsItem,
    NewsKind,
    ScamKind,
)
from telecare.models.device import Device, DeviceKind, DeviceState
from telecare.models.device_events import DeviceCommand, DeviceEvent
from telecare.models.enrollee import (
    CallMode,
    Contact,
    Enrollee,
    EnrolleePhone,
    EnrolleeState,
    PhoneKind,
    Relation,
    Sex,
)
from telecare.models.planned_call import (
    ButtonCheck,
    CallKind,
    CallResult,
    PlannedCall,
    PlannedCallLog,
    PlannedCallState,
)
from telecare.models.telephony import (
    CallAttempt,
    CallOutcome,
    NumberStanding,
    ProcessedCallback,
    SmsMessage,
)
from telecare.models.user import ApiToken, Role, User

__all__ = [
    "Alarm", "AlarmEvent", "AlarmKind", "AlarmNotification", "AlarmState", "EscalationPolicy",
    "NotificationState", "DeviceCommand", "ApiToken", "AuditEntry", "Base",
    "Campaign", "CampaignDelivery", "CampaignKind", "CampaignState", "CapMessage", "CapState",
    "DeliveryState", "NewsItem", "NewsKind", "ScamKind",
    "Contact", "Device", "DeviceEvent", "DeviceKind", "DeviceState", "Enrollee", "EnrolleePhone",
    "EnrolleeState", "HeatForecast", "Outcome", "PhoneKind", "Relation", "Role", "Severity",
    "Sex", "User",
    "ButtonCheck", "CallKind", "CallMode", "CallResult", "PlannedCall", "PlannedCallLog",
    "PlannedCallState",
    "CallAttempt", "CallOutcome", "NumberStanding", "ProcessedCallback", "SmsMessage",
]

from telecare.models.service import ServiceBeat  # noqa: E402 (appended: the service's beats)

__all__ += ["ServiceBeat"]
