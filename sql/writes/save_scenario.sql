-- save_scenario: store (or replace) one scenario saved from the What-if page. Params: $name, $body (JSON text
-- of the scenario file), $saved_at (UTC timestamp).
insert or replace into scenarios (name, body, saved_at) values ($name, $body, $saved_at);
