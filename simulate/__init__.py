"""The routing simulator: scenario files (pydantic), policies (a registry), a pure seeded SQL replay over `usage`.

    scenario = simulate.load_scenario("armstrong-80-99")   # a file path or a preset name
    result = simulate.run(wh, scenario)
    print(result.summary_text()); result.to_json()
    result.spend_bridge                                     # spend over the period -> the replay's baseline

May import warehouse and sql only (docs/design.md, "Layout"; tests/test_layers.py).
"""

from simulate.bridge import SpendBridge, spend_bridge
from simulate.policies import REGISTRY as POLICY_KINDS
from simulate.replay import Result, build_sql, run
from simulate.scenario import Scenario, load_scenario, parse_scenario, presets
from simulate.spec import ScenarioError

__all__ = ["POLICY_KINDS", "Result", "Scenario", "ScenarioError", "SpendBridge", "build_sql", "load_scenario",
           "parse_scenario", "presets", "run", "spend_bridge"]
