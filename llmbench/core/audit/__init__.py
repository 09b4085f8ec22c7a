"""The audit log's rules: the hash chain, the query language, redaction."""
