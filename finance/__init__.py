"""Finance views over the ledger: forecasts, budgets, anomalies, reconciliation, chargeback and FOCUS export."""
