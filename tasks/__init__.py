"""What happens to one document: extract, clean, dedupe, enrich, index."""
