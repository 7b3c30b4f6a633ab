"""A run on a local Dask cluster (2 worker processes) gives the products of a run in one process."""

from __future__ import annotations

import pytest

from plumetrace.campaign import config_from_inputs, run_campaign
from tests.campaign.outputs import assert_same_products, leftovers


@pytest.mark.slow
def test_local_cluster_equals_synchronous(campaign, tmp_path):
    scenes = [campaign.headers[0], campaign.headers[2]]  # two scenes with plumes, one per worker
    config = config_from_inputs(scenes, {"wind": {"file": str(campaign.wind_nc)}})
    one = run_campaign(config, tmp_path / "one", scheduler="synchronous", progress=False)
    two = run_campaign(config, tmp_path / "two", n_workers=2, progress=False)
    assert one.n_failed == two.n_failed == 0
    assert one.ran == two.ran
    assert_same_products(tmp_path / "one", tmp_path / "two")
    assert not leftovers(tmp_path / "two")


def test_an_existing_cluster_by_address(campaign, tmp_path):
    """The path of ``--scheduler tcp://HOST:PORT`` (dask-jobqueue, dask-kubernetes): a scheduler the run did not
    start, here an in-process one with one worker thread."""
    from distributed import LocalCluster

    config = config_from_inputs([campaign.headers[0]], {"wind": {"speed_m_s": 3.0, "direction_deg": 270.0}})
    one = run_campaign(config, tmp_path / "one", scheduler="synchronous", progress=False)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        remote = run_campaign(config, tmp_path / "remote", scheduler=cluster.scheduler_address, progress=False)
    assert one.n_failed == remote.n_failed == 0 and remote.ran["detect"] == remote.ran["plumes"] == 1
    assert_same_products(tmp_path / "one", tmp_path / "remote")
