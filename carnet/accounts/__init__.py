"""Users, patient profiles and relatives, API tokens."""
