"""Exceptions raised while building the site."""

from __future__ import annotations


class SiteBuildError(Exception):
    """Base class for every error the site builder raises."""


class InvalidPath(SiteBuildError, ValueError):
    """A slug, version name or output path would leave the output folder or is malformed."""
