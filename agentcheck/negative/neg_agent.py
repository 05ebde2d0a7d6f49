#!/usr/bin/python3
"""Negative controls for agent-check: the Python reference agent with one
clause broken on purpose. Each must fail agent-check on that clause.

usage: neg_agent.py REFERENCE_AGENT MODE
  REFERENCE_AGENT  the built neira-agent-py launcher (build/agent/python/neira-agent-py)
  MODE             marker-before-bind (A1) | camel-only (A2) | hang-unknown (A3)
                   | ignore-sigterm (L7)
"""
import importlib.machinery
import importlib.util
import sys

MODES = {
    "marker-before-bind": "marker_before_bind",
    "camel-only": "camel_only",
    "hang-unknown": "hang_unknown",
    "ignore-sigterm": "ignore_sigterm",
}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in MODES:
        sys.stderr.write(__doc__)
        return 2
    loader = importlib.machinery.SourceFileLoader("neira_agent", sys.argv[1])
    spec = importlib.util.spec_from_loader("neira_agent", loader)
    agent = importlib.util.module_from_spec(spec)
    loader.exec_module(agent)

    class Tweaks(agent.Tweaks):
        pass
    setattr(Tweaks, MODES[sys.argv[2]], True)
    # the agent itself gets no arguments, as from a supervisor
    return agent.main([sys.argv[1]], Tweaks)


if __name__ == "__main__":
    sys.exit(main())
