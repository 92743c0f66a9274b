"""The ledgers: documents, checks, postings and jobs per ledger, built by one factory; one resource per ledger."""
