"""The error of input that names where it is wrong: ``'<file>: <field>: <reason>'``."""
from typing import Tuple


class FieldError(ValueError):
    """A value the plugin cannot use, ``'{file}: {field}: {reason}'``; it pickles with its three
    parts (so it crosses process boundaries, e.g. from a DataLoader worker).

    Args:
        file (str): The file holding the value (or what else holds it).
        field (str): The field, key or argument at fault, e.g. ``'shapes[3].points'``.
        reason (str): What is wrong with it.
    """

    def __init__(self, file: str, field: str, reason: str) -> None:
        super().__init__(f'{file}: {field}: {reason}')
        self.file = file
        self.field = field
        self.reason = reason

    def __reduce__(self) -> Tuple[type, Tuple[str, str, str]]:
        return type(self), (self.file, self.field, self.reason)
