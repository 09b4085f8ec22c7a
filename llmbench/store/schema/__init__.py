"""The database schema: its history of migration steps, the runner that applies them in order,
and the values and rollup definitions the steps wrote into it."""
