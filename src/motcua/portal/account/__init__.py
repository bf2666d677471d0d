"""Citizens' accounts on the portal: registration, sign-in, profile, single sign-on, rating."""
