"""The participant WebSocket path: one reader and one writer task per
connection, coalescing outboxes, and the paced fan-out of campaign updates."""
