"""The neutral core every layer may use: registries, declared options and the config
schema, the model contract, shared densities, atomic file writes and errors. It imports
nothing of aelab's own above it."""
