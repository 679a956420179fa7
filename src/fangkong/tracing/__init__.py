"""Tracing (流调溯源): exposures, contacts, venue check-ins, the co-presence (时空伴随) engine."""
