import pytest

from plumetrace.io.staging import staged_output


def test_staged_output_moves_files_on_success(tmp_path):
    out = tmp_path / "out"
    with staged_output(out) as stage:
        (stage / "a.txt").write_text("x")
        assert not out.exists()
    assert (out / "a.txt").read_text() == "x"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_staged_output_leaves_nothing_on_failure(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with staged_output(out) as stage:
            (stage / "a.txt").write_text("x")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
