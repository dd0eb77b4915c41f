"""`capgap analyze --files independent --jobs N`: several sensors' rotated files.

The sensors are tests/python/_sensors.py's (one capture per directory, cut into pieces whose
names do not sort in time order). The expected output is that of the same grouping done by
hand: each directory's files analysed as one capture by capgap.analyze, the reports merged
with capgap.concat; the totals are anchored on the captures' truth.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from _sensors import all_pieces, make_sensors

import capgap
from capgap._grouping import group_captures


@pytest.fixture(scope="module")
def sensors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    return make_sensors(tmp_path_factory.mktemp("sensors"))


def test_cli_jobs_equals_sequential_and_python(
    cli: Path, sensors: dict[str, dict], tmp_path: Path
) -> None:
    files = all_pieces(sensors)

    def run(*extra: str) -> tuple[str, bytes]:
        out = tmp_path / f"sessions{len(list(tmp_path.iterdir()))}.csv"
        res = subprocess.run(
            [str(cli), "analyze", *files, "--files", "independent", "--format", "json",
             "--sessions-out", str(out), "--quiet", *extra],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        return res.stdout, out.read_bytes()

    one_json, one_csv = run("--jobs", "1")
    two_json, two_csv = run("--jobs", "2")
    assert two_json == one_json
    assert two_csv == one_csv
    # The same grouping by hand: each directory's files (time order) analysed as one capture,
    # the reports merged as independent captures.
    groups = group_captures(files)
    want = capgap.concat(capgap.analyze(g) for g in groups.values())
    want_csv = tmp_path / "want.csv"
    want.write_sessions_csv(want_csv)
    assert one_csv == want_csv.read_bytes()
    got = json.loads(one_json)
    assert got["summary"] == json.loads(want.to_json())["summary"]
    assert got["summary"]["total_sessions"] == sum(
        s["totals"]["total_sessions"] for s in sensors.values()
    )


def test_cli_sensor_regex(cli: Path, sensors: dict[str, dict], tmp_path: Path) -> None:
    # Every piece in one directory, the sensor in the name: --sensor-regex groups them again.
    flat = tmp_path / "flat"
    flat.mkdir()
    files = []
    for d, s in sensors.items():
        for p in s["pieces"]:
            dst = flat / f"{Path(d).name}--{p.name}"
            shutil.copy(p, dst)
            files.append(str(dst))
    res = subprocess.run(
        [str(cli), "analyze", *sorted(files), "--files", "independent", "--jobs", "2",
         "--sensor-regex", "/(sensor-[a-z0-9_]+)--", "--format", "json", "--quiet"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    want = capgap.concat(capgap.analyze(str(s["whole"])) for s in sensors.values())
    assert json.loads(res.stdout)["summary"] == json.loads(want.to_json())["summary"]


def test_cli_usage(cli: Path, sensors: dict[str, dict]) -> None:
    one = all_pieces(sensors)[0]
    for args, msg in (
        (["--jobs", "2"], "--files independent"),
        (["--files", "independent", "--jobs", "0"], "number of jobs"),
        (["--files", "sideways"], "capture or independent"),
        (["--files", "independent", "--sensor-regex", "("], "--sensor-regex"),
    ):
        res = subprocess.run(
            [str(cli), "analyze", one, *args], capture_output=True, text=True, timeout=60
        )
        assert res.returncode == 1, args
        assert msg in res.stderr, (args, res.stderr)
    res = subprocess.run(
        [str(cli), "analyze", one, "--files", "independent", "--sensor-regex", "nomatch"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert res.returncode == 2
    assert "does not match" in res.stderr and one in res.stderr
