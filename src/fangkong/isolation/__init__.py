"""Transfer and isolation (转运隔离) and treatment (医疗救治): sites, rooms, assignment."""
