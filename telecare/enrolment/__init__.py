"""Enrolment: who may join the service, and the records social services keep."""
