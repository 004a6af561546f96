"""Agendas, opening rules, absences, visit motives, the availability engine."""
