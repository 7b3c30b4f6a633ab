"""Campaigns: `plumetrace run` over many scenes and sensor logs, resumable, on Dask."""

from plumetrace.campaign.config import CampaignConfig, config_from_inputs, default_config_yaml, load_config
from plumetrace.campaign.runner import RunSummary, run_campaign

__all__ = ["CampaignConfig", "RunSummary", "config_from_inputs", "default_config_yaml", "load_config", "run_campaign"]
