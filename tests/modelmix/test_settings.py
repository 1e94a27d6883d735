"""Every declared setting is documented in the README's settings table, with its environment variable."""

from pathlib import Path

from modelmix.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_setting_in_readme():
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"
        assert f"| `{name}` | `MODELMIX_{name.upper()}` |" in README, f"setting {name} missing from README"


def test_env_override(monkeypatch):
    monkeypatch.setenv("MODELMIX_PORT", "9999")
    assert Settings().port == 9999


def test_readme_gives_two_setup_commands():
    assert "make demo" in README and "make test" in README
