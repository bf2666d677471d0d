"""Online submission on the portal: e-forms, resumable uploads, drafts, my dossiers."""
