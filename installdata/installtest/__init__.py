"""What runs on a learner's computer: the reference client and the installation test.

Standard library only, Python 3.8 or newer, Linux, macOS and Windows, because these files
leave the project: ``client.py`` is the one file installer scripts copy (docs/client.md),
and the site joins all four into the published ``install-test.py`` (docs/install-test.md):
``client.py`` (without its command line), ``checks.py`` (the check table), ``probe.py``
(running a check) and ``script.py`` (settings, report, consent, command line). They import
only the standard library and each other, never the rest of the core. They live in the core
because both programs use them: the generator publishes them, the collector names the
client's command line (``python -m collector.client``), the demo posts what they build.
"""
