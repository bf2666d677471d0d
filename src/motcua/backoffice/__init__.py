"""The officers' back office (/can-bo/): sign-in with a second factor for leaders, the layout,
and the pages of the one-stop desk (intake, inbox, dossier, return desk, registers)."""
