"""Cluster mode: one campaign served by many processes and machines, on Valkey.

Each campaign has one owner (the process that created it: its
``CampaignOwner``, writer, timers and results computation, exactly as in
one process) and any number of gateways, every process being one. The
owner publishes each durable batch of events to the campaign's stream;
gateways keep a replica of the state from it, answer reads locally,
forward commands to the owner and release a phone's ack once their
replica applied it. See docs/scaling.md.
"""

from essaim.cluster.bus import BusError
from essaim.cluster.engine import ClusterEngine, open_cluster_engine

__all__ = ["ClusterEngine", "open_cluster_engine", "BusError"]
