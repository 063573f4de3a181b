"""How a database server is obtained: local processes, containers, or given addresses."""
