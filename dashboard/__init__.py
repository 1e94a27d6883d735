"""The Streamlit dashboard: `app.py` routes, `views/` (the pages) render, `services/` fetch, `components/` draw."""
