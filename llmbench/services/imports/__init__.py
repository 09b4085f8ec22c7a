"""Importing other tools' calls into the audit log, in one or two processes."""
