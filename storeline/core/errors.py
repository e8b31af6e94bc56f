"""The kernel's error tree; the CLI prints any of these as one line and exits non-zero.

StorelineError
├── ConfigError   a setting is missing or malformed (DATABASE_URL, encryption keys, …)
└── InputError    a file or argument the user gave cannot be used (seed file, CLI flags)
"""


class StorelineError(Exception):
    """Base class: the message is safe to show to the user (never contains a secret)."""


class ConfigError(StorelineError):
    pass


class InputError(StorelineError):
    pass
