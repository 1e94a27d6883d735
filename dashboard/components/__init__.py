"""Reusable pieces of pages: pure plotly figure builders (`charts`), number formatting (`formatting`) and the
few Streamlit widgets shared by pages (`widgets`)."""
