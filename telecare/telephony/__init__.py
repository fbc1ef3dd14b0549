"""Telephony: the port, the Twilio adapter, call outcomes, rate limits, calls and SMS records."""

from telecare.telephony.port import (
    CRITICAL_PURPOSES,
    OutboundCall,
    OutboundSms,
    Telephony,
    TelephonyError,
)

__all__ = ["CRITICAL_PURPOSES", "OutboundCall", "OutboundSms", "Telephony", "TelephonyError"]
