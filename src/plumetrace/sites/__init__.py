"""Sites: detections from many scenes, logs and dates fused into candidate emission sites."""

from plumetrace.sites.fuse import SITE_COLUMNS, TIMESERIES_COLUMNS, SiteResult, fuse_sites
from plumetrace.sites.options import SiteOptions

__all__ = ["SITE_COLUMNS", "TIMESERIES_COLUMNS", "SiteOptions", "SiteResult", "fuse_sites"]
