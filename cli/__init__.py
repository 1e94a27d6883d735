"""The command line: `modelmix` (cli.main), its pull and jobs commands (cli.pull) and the seeded sample
generator behind `modelmix sample` (cli.sample). Built on the composition root `modelmix` (settings, runtime);
nothing but tests imports it."""
