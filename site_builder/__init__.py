"""termsledger's site builder: the content model to a static site of every version,
revision histories, redline diffs and feeds.

>>> import terms, site_builder
>>> report = site_builder.build(terms.load("content"), "build")  # doctest: +SKIP
"""

from .build import build
from .errors import InvalidPath, SiteBuildError, Unwritable
from .settings import InvalidSetting, SiteSettings, check_base_url, check_contact, check_text
from .status import NextChange, next_change
from .writer import BuildReport

__all__ = ["BuildReport", "InvalidPath", "InvalidSetting", "NextChange", "SiteBuildError", "SiteSettings",
           "Unwritable", "build", "check_base_url", "check_contact", "check_text", "next_change"]
