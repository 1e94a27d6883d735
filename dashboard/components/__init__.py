"""Reusable pieces of pages: pure chart builders returning Vega-Lite specs (`charts`, `vega`, ...), number
formatting (`formatting`) and the few Streamlit widgets shared by pages (`widgets`)."""
