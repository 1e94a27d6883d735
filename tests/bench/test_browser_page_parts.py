"""bench/browser.py --page-parts: the launcher that serves the dashboard with one kind of element drawn as nothing.
Its patches run here on a page under a `dashboard/views/` folder through AppTest (in a subprocess: they change
Streamlit's classes for the whole process), so a variant is known to leave out what it names and nothing else."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PAGE = '''import streamlit as st

st.title("Probe")


def first():
    st.vega_lite_chart({"mark": "bar", "data": {"values": [{"a": 1}]}, "encoding": {"y": {"field": "a"}}})


def second():
    st.vega_lite_chart({"mark": "line", "data": {"values": [{"a": 1}]}, "encoding": {"y": {"field": "a"}}})
    st.metric("Spend", "$1")


first()
second()
with st.expander("More"):
    st.caption("inside")
st.caption("outside")
'''
# the router, as dashboard/app.py: its sidebar drawn outside dashboard/views/, then the page
APP = '''import os
import runpy
import streamlit as st

st.sidebar.caption("the sidebar's")
runpy.run_path(os.path.abspath("dashboard/views/probe.py"))     # as st.Page resolves it
'''

RUN = '''
import json, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=120).run()     # a loaded machine: seconds
print(json.dumps({"charts": len(at.get("vega_lite_chart")), "metrics": len(at.metric),
                  "captions": [c.value for c in at.main.caption], "sidebar": [c.value for c in at.sidebar.caption],
                  "expanders": len(at.expander), "marks": [el.proto.spec for el in at.get("vega_lite_chart")]}))
'''


def _bench():
    spec = importlib.util.spec_from_file_location("bench_browser", ROOT / "bench" / "browser.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _drawn(tmp_path: Path, variant: str | None) -> dict:
    bench = _bench()
    page = tmp_path / "dashboard" / "views" / "probe.py"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(PAGE)
    (tmp_path / "app.py").write_text(APP)
    omit = bench.parse_variant(variant)[1] if variant else ()
    patches = bench.PAGE_PARTS_LAUNCHER.format(root=str(ROOT), omit=list(omit)).split("from streamlit.web.cli")[0]
    script = tmp_path / "run.py"
    script.write_text(patches + RUN)
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "app.py")], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


@pytest.mark.slow     # AppTest in a subprocess per variant (2-3 s each quiet)
def test_the_page_as_it_is_draws_everything(tmp_path):
    drawn = _drawn(tmp_path, None)
    assert (drawn["charts"], drawn["metrics"], drawn["expanders"]) == (2, 1, 1)
    assert drawn["captions"] == ["inside", "outside"] and drawn["sidebar"] == ["the sidebar's"]


@pytest.mark.slow     # AppTest in a subprocess per variant (2-3 s each quiet)
def test_a_variant_leaves_out_one_kind_one_function_or_the_nth_call(tmp_path):
    assert _drawn(tmp_path, "vega_lite_chart")["charts"] == 0
    second_only = _drawn(tmp_path, "vega_lite_chart@first")
    assert second_only["charts"] == 1 and '"line"' in second_only["marks"][0]
    first_only = _drawn(tmp_path, "vega_lite_chart@#2")
    assert first_only["charts"] == 1 and '"bar"' in first_only["marks"][0]
    # an expander left out takes what it holds with it; the sidebar (drawn outside dashboard/views/) stays
    drawn = _drawn(tmp_path, "expander+metric")
    assert (drawn["expanders"], drawn["metrics"], drawn["captions"], drawn["sidebar"]) == (
        0, 0, ["outside"], ["the sidebar's"])


@pytest.mark.slow     # AppTest in a subprocess per variant (2-3 s each quiet)
def test_the_canvas_variant_draws_every_chart_on_a_canvas(tmp_path):
    drawn = _drawn(tmp_path, "canvas")
    assert drawn["charts"] == 2 and all('"renderer": "canvas"' in m for m in drawn["marks"])


def test_variants_drawn_another_way_are_named_as_such():
    bench = _bench()
    assert bench.parse_variant("canvas+inline") == ("canvas+inline", (("canvas", None), ("inline", None)))
    assert bench.parse_variant("png")[0] == "png"
    assert bench.parse_variant("vega_lite_chart@#2+metric") == (
        "no vega_lite_chart@#2+metric", (("vega_lite_chart", "#2"), ("metric", None)))
