"""Appointments: book, move, cancel; the no-double-booking invariant."""
