"""The scenarios, one module each; every one returns the samples of one run."""
