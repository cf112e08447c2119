"""Adapters: each external system behind a small interface, with a real
implementation and an offline one, chosen by a setting in the INI file."""
