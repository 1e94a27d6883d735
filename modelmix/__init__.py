"""ModelMix's composition root: settings (`modelmix.settings.settings()`, the one way to get them) and
runtime (`open_owner`: the ledger, its configured files and inbox). The command line is the `cli` package."""

__version__ = "0.1.0"
