"""The Streamlit dashboard: `app.py` routes, `pages/` render, `services/` fetch, `components/` draw."""
