"""Planned calls to enrollees: the weekly courtesy call, reassurance, birthdays."""
