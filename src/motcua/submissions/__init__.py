"""Drafts of online dossiers and their resumable uploads (tus), before they become dossiers."""
