from __future__ import annotations

from django.core.exceptions import ValidationError

from channels.names import name_problem


def validate_account_name(value: str) -> None:
    problem = name_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid")


username_validators = [validate_account_name]
