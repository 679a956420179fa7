"""The policy engine: protocol packs as versioned data, and the pure computations over them
(management plans, look-back windows, risk-area lifting schedules, the nine prohibitions).
No database tables: other domains call :mod:`fangkong.policy.service`."""
