"""ModelMix: the composition root (command line and settings) of the AI spend ledger and routing simulator."""

__version__ = "0.1.0"
