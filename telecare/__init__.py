"""Telecare core: settings, database, models, clock, enrolment, alarms, the `telecare` command."""
