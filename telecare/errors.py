"""Validation errors that name the field and the reason, for CSV rows, forms and the API alike."""

from __future__ import annotations

from dataclasses import dataclass, field


def N_(message: str) -> str:
    """Mark a message for translation where it is defined; the web layer translates it."""
    return message


@dataclass(frozen=True)
class FieldError:
    field: str
    # An English template, translated by the web layer; params fill it in.
    template: str
    params: dict = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return self.template % self.params if self.params else self.template

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"

    def as_dict(self) -> dict:
        return {"field": self.field, "reason": self.reason}


class ValidationFailed(ValueError):
    """Raised with every field error of one record, never just the first."""

    def __init__(self, errors: list[FieldError]):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class RowError:
    """One problem of one row of an imported file."""

    row: int  # the file's row number as a spreadsheet shows it: header = 1; 0 = the whole file
    field: str  # a column name, or "file" / "header" / "row"
    reason: str
    # The English template and its values, so the web page can say it in the reader's language.
    template: str = field(default="", compare=False)
    params: dict = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, row: int, column: str, template: str, params: dict | None = None) -> RowError:
        params = params or {}
        return cls(row, column, template % params if params else template, template, params)

    def __str__(self) -> str:
        return f"row {self.row}: {self.field}: {self.reason}"
