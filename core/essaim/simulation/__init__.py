"""Simulated crowds with a known ground truth: ``essaim simulate``.

A latent truth (:mod:`essaim.simulation._crowd`) drives simulated people
through a real engine; :mod:`essaim.simulation.agreement` scores how well
the crowd's outcome recovers it. The crowd model (truth, people, how they
write, sort and judge) is exported too, for benchmarks that drive the
strategies without an engine.
"""

from essaim.simulation._crowd import CrowdHabits, Person, Truth, make_crowd, make_truth, phrase, sort_hand
from essaim.simulation._judge import answer
from essaim.simulation._run import (
    DEFAULT_MAX_ACTIVE,
    DEFAULT_PARTICIPANTS,
    DEFAULT_PHASE_SECONDS,
    SimulationError,
    SimulationReport,
    simulate,
    simulation_template,
)

__all__ = [
    "simulate",
    "simulation_template",
    "SimulationReport",
    "SimulationError",
    "DEFAULT_PARTICIPANTS",
    "DEFAULT_PHASE_SECONDS",
    "DEFAULT_MAX_ACTIVE",
    # The crowd model, for benchmarks that drive strategies without an engine.
    "CrowdHabits",
    "Person",
    "Truth",
    "make_truth",
    "make_crowd",
    "phrase",
    "sort_hand",
    "answer",
]
