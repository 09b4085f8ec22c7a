"""The audit log's tables: sealed appends, windowed reads, bulk index, retention."""
