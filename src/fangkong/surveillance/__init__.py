"""Surveillance and early warning (监测预警): sentinels, alerts, case-based curves."""
