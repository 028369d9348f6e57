"""Simulated crowds with a known ground truth: ``essaim simulate``.

A latent truth (:mod:`essaim.simulation._crowd`) drives simulated people
through a real engine; :mod:`essaim.simulation.agreement` scores how well
the crowd's outcome recovers it.
"""

from essaim.simulation._run import (
    DEFAULT_MAX_ACTIVE,
    DEFAULT_PARTICIPANTS,
    DEFAULT_PHASE_SECONDS,
    SimulationReport,
    simulate,
    simulation_template,
)

__all__ = [
    "simulate",
    "simulation_template",
    "SimulationReport",
    "DEFAULT_PARTICIPANTS",
    "DEFAULT_PHASE_SECONDS",
    "DEFAULT_MAX_ACTIVE",
]
