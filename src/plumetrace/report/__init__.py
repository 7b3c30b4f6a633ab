"""Evidence packages: maps, numbers, provenance, checksums (en, es)."""
