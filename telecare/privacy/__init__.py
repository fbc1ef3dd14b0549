"""Data protection: erasure after the retention, one person's data on request.

`erasure` decides who is due (an ended enrolment whose retention has passed) and erases one
person in one transaction, keeping their alarms and planned calls, anonymised, for the
statistics; `anonymise` does the row-by-row work; `telephony` finds the calls and texts that
belong to a person; `export` gathers everything held about one person as a JSON document.
The audit log is append-only in the database itself (migration 4ae743e4f2a5).
"""
