"""Staff pages of the practitioner's workspace, one module per area."""
